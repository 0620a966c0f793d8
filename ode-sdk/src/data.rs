//! Data for templates: JSON, JSON Lines, YAML or CSV.
//!
//! A CSV row becomes an object keyed by the header row (values stay text; the
//! templates' number filters read numeric text). For one render, a CSV file or a JSON
//! Lines file is bound as `{"rows": [...]}`; for a mail merge, each row or line is one
//! record.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

/// The formats data can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// One JSON value.
    Json,
    /// One JSON value per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// YAML.
    Yaml,
    /// Comma-separated values with a header row.
    Csv,
}

impl DataFormat {
    /// The format a file name says, by its extension.
    pub fn from_path(path: &Path) -> Option<DataFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => DataFormat::Json,
            "jsonl" | "ndjson" => DataFormat::JsonLines,
            "yaml" | "yml" => DataFormat::Yaml,
            "csv" => DataFormat::Csv,
            _ => return None,
        })
    }
}

/// A problem in a data file: where (a line, or a record) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// `line 3`, `line 3, column 7`, or empty for the whole file.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for DataError {}

/// One record of a mail merge, and where it came from (for messages and file names).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The data.
    pub value: Value,
    /// `line 12` (JSON Lines, CSV), or `/3` (an element of a JSON or YAML array).
    pub location: String,
}

fn err(location: impl Into<String>, message: impl Into<String>) -> DataError {
    DataError {
        location: location.into(),
        message: message.into(),
    }
}

fn json(text: &str) -> Result<Value, DataError> {
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        err(
            format!("line {}, column {}", e.line(), e.column()),
            format!("invalid JSON: {msg}"),
        )
    })
}

fn yaml(text: &str) -> Result<Value, DataError> {
    serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        err(at, format!("invalid YAML: {msg}"))
    })
}

fn json_lines(text: &str) -> Result<Vec<Record>, DataError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            err(
                format!("line {}, column {}", i + 1, e.column()),
                format!("invalid JSON: {msg}"),
            )
        })?;
        out.push(Record {
            value,
            location: format!("line {}", i + 1),
        });
    }
    Ok(out)
}

fn csv(text: &str) -> Result<Vec<Record>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err("line 1", format!("invalid CSV header: {e}")))?
        .clone();
    for (i, h) in headers.iter().enumerate() {
        if h.trim().is_empty() {
            return Err(err(
                "line 1",
                format!("column {} of the header row has no name", i + 1),
            ));
        }
        if headers.iter().take(i).any(|o| o == h) {
            return Err(err(
                "line 1",
                format!("the column name \"{h}\" appears twice"),
            ));
        }
    }
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            let msg = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("this row has {len} fields, the header has {expected_len}"),
                _ => e.to_string(),
            };
            err(format!("line {line}"), msg)
        })?;
        let line = row.position().map_or(0, |p| p.line());
        let mut obj = Map::new();
        for (h, v) in headers.iter().zip(row.iter()) {
            obj.insert(h.to_string(), Value::String(v.to_string()));
        }
        out.push(Record {
            value: Value::Object(obj),
            location: format!("line {line}"),
        });
    }
    Ok(out)
}

fn as_records(v: Value) -> Vec<Record> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, value)| Record {
                value,
                location: format!("/{i}"),
            })
            .collect(),
        value => vec![Record {
            value,
            location: String::new(),
        }],
    }
}

/// The records of a mail merge: the elements of a JSON or YAML array (a single
/// object is one record), the lines of JSON Lines, the rows of CSV.
///
/// # Errors
/// Syntax errors with their line.
pub fn records(text: &str, format: DataFormat) -> Result<Vec<Record>, DataError> {
    match format {
        DataFormat::Json => Ok(as_records(json(text)?)),
        DataFormat::Yaml => Ok(as_records(yaml(text)?)),
        DataFormat::JsonLines => json_lines(text),
        DataFormat::Csv => csv(text),
    }
}

/// The data of one render: a JSON or YAML value as it is; the rows of CSV or the
/// lines of JSON Lines as `{"rows": [...]}`.
///
/// # Errors
/// Syntax errors with their line.
pub fn single(text: &str, format: DataFormat) -> Result<Value, DataError> {
    match format {
        DataFormat::Json => json(text),
        DataFormat::Yaml => yaml(text),
        DataFormat::JsonLines | DataFormat::Csv => {
            let rows: Vec<Value> = records(text, format)?
                .into_iter()
                .map(|r| r.value)
                .collect();
            let mut o = Map::new();
            o.insert("rows".into(), Value::Array(rows));
            Ok(Value::Object(o))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_rows_become_objects_by_header() {
        let r = records(
            "name,amount\nAda,12.50\n\"Lovelace, A.\",3\n",
            DataFormat::Csv,
        )
        .unwrap();
        assert_eq!(r[0].value, json!({"name": "Ada", "amount": "12.50"}));
        assert_eq!(r[1].value["name"], "Lovelace, A.");
        assert_eq!(r[1].location, "line 3");
        assert_eq!(
            single("a\n1\n2\n", DataFormat::Csv).unwrap(),
            json!({"rows": [{"a": "1"}, {"a": "2"}]})
        );
    }

    #[test]
    fn csv_mistakes_name_their_line() {
        let e = records("a,b\n1,2\n3\n", DataFormat::Csv).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: this row has 1 fields, the header has 2"
        );
        let e = records("a,a\n1,2\n", DataFormat::Csv).unwrap_err();
        assert_eq!(e.to_string(), "line 1: the column name \"a\" appears twice");
    }

    #[test]
    fn json_lines_and_arrays_are_records() {
        let r = records("{\"n\": 1}\n\n{\"n\": 2}\n", DataFormat::JsonLines).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].location, "line 3");
        let e = records("{\"n\": 1}\n{\"n\": \n", DataFormat::JsonLines).unwrap_err();
        assert!(e.to_string().starts_with("line 2, column"), "{e}");
        let r = records("[{\"n\": 1}, {\"n\": 2}]", DataFormat::Json).unwrap();
        assert_eq!(r[1].location, "/1");
        let r = records("- n: 1\n- n: 2\n", DataFormat::Yaml).unwrap();
        assert_eq!(r[0].value, json!({"n": 1}));
    }

    #[test]
    fn yaml_errors_have_lines() {
        let e = single("a: [1, 2\nb: 3\n", DataFormat::Yaml).unwrap_err();
        assert!(e.location.starts_with("line "), "{e}");
    }
}
