//! What `ode render` reads: a document, a template with data, or Markdown; and the
//! mail merge that renders one template for many records.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ode_sdk::data::{self, DataFormat, Record};
use ode_sdk::ode_core::template::Template;
use ode_sdk::{Format, Output, PngOptions, RenderError, Rendered, Renderer};
use serde_json::Value;

use crate::{Failure, report, write_out};

/// A parsed input.
pub(crate) enum Source {
    /// A plain JSON document, parsed once.
    Json(Value),
    /// A template with the data of one render.
    Template(Box<Template>, Value),
    /// Markdown text.
    Markdown(String),
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "md" | "markdown"))
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure(1, format!("{}: cannot read: {e}", path.display())))
}

fn data_format(path: &Path) -> Result<DataFormat, Failure> {
    DataFormat::from_path(path).ok_or_else(|| {
        Failure(
            2,
            format!(
                "error: {}: the data's extension must be .json, .jsonl, .ndjson, .yaml, .yml or .csv",
                path.display()
            ),
        )
    })
}

/// Compiles a template; `--lenient` and `--name` apply.
pub(crate) fn template(
    doc: Value,
    name: &str,
    lenient: bool,
    file_name: Option<&str>,
    limits: &ode_sdk::Limits,
) -> Result<Template, Failure> {
    let mut t = Template::new(doc).map_err(|d| Failure(1, report(name, &d.0)))?;
    t.set_limits(*limits);
    if lenient {
        t.set_lenient(true);
    }
    if let Some(expr) = file_name {
        t.set_file_name(expr)
            .map_err(|d| Failure(1, report("--name", &d.0)))?;
    }
    Ok(t)
}

/// Reads the input as Markdown (by its extension), as a template (when data is given
/// or it uses template syntax) or as a document.
pub(crate) fn load(
    input: &Path,
    text: String,
    name: &str,
    data: Option<&Path>,
    lenient: bool,
    limits: &ode_sdk::Limits,
) -> Result<Source, Failure> {
    if is_markdown(input) {
        if data.is_some() {
            return Err(Failure(
                2,
                "error: --data goes with a JSON template, not Markdown".into(),
            ));
        }
        return Ok(Source::Markdown(text));
    }
    // Parsed once: the value tells whether it is a template, then becomes the document.
    let value =
        ode_sdk::ode_core::model::parse_value(&text).map_err(|d| Failure(1, report(name, &d.0)))?;
    if data.is_none() && !ode_sdk::ode_core::template::is_template(&value) {
        return Ok(Source::Json(value));
    }
    let t = template(value, name, lenient, None, limits)?;
    let value = match data {
        Some(path) => {
            let format = data_format(path)?;
            let text = read(path)?;
            data::single(&text, format)
                .map_err(|e| Failure(1, format!("{}: {e}", path.display())))?
        }
        None => Value::Object(Default::default()),
    };
    Ok(Source::Template(Box::new(t), value))
}

/// Renders a loaded input.
pub(crate) fn render(
    r: &Renderer,
    source: &Source,
    format: Format,
    png: &PngOptions,
    page: Option<usize>,
) -> Result<Rendered, RenderError> {
    match source {
        Source::Json(value) => {
            let doc = ode_sdk::ode_core::model::from_value(value).map_err(RenderError::Invalid)?;
            r.render_model(&doc, format, png, page)
        }
        Source::Template(t, data) => {
            let doc = t
                .document_with(data, r.guard())
                .map_err(RenderError::Invalid)?;
            r.render_model(&doc, format, png, page)
        }
        Source::Markdown(md) => {
            let converted =
                ode_sdk::ode_core::markdown::to_document(md).map_err(RenderError::Invalid)?;
            let doc = ode_sdk::ode_core::model::from_value(&converted.output)
                .map_err(RenderError::Invalid)?;
            let mut rendered = r.render_model(&doc, format, png, page)?;
            let mut warnings = converted.warnings;
            warnings.append(&mut rendered.warnings);
            rendered.warnings = warnings;
            Ok(rendered)
        }
    }
}

/// What a mail merge needs.
pub(crate) struct Merge<'a> {
    pub input: &'a Path,
    pub data: &'a Path,
    pub renderer: &'a Renderer,
    pub format: Format,
    pub lenient: bool,
    pub quiet: bool,
    /// One file per record in this folder…
    pub out_dir: Option<&'a Path>,
    /// …or one document with a section per record, written here.
    pub output: Option<&'a Path>,
    pub name: Option<&'a str>,
    pub restart_page_numbers: bool,
    pub jobs: Option<usize>,
}

impl Merge<'_> {
    pub(crate) fn run(&self) -> Result<(), Failure> {
        let name = self.input.display().to_string();
        let dname = self.data.display().to_string();
        if is_markdown(self.input) {
            return Err(Failure(
                2,
                "error: a mail merge needs a JSON template".into(),
            ));
        }
        let text = read(self.input)?;
        let doc = ode_sdk::ode_core::model::parse_value(&text)
            .map_err(|d| Failure(1, report(&name, &d.0)))?;
        let t = template(doc, &name, self.lenient, self.name, self.renderer.limits())?;
        let format = data_format(self.data)?;
        let records = data::records(&read(self.data)?, format)
            .map_err(|e| Failure(1, format!("{dname}: {e}")))?;
        if records.is_empty() {
            return Err(Failure(1, format!("{dname}: no records")));
        }
        match (self.out_dir, self.output) {
            (Some(dir), _) => self.files(&t, &records, dir, &name, &dname),
            (None, Some(out)) => self.one(&t, &records, out, &name, &dname),
            (None, None) => Err(Failure(2, "error: give --out-dir or --output".into())),
        }
    }

    /// Where a record is, for messages: `records.jsonl line 4`.
    fn at(dname: &str, r: &Record) -> String {
        if r.location.is_empty() {
            dname.to_string()
        } else {
            format!("{dname} {}", r.location)
        }
    }

    /// All records into one document, one section each.
    fn one(
        &self,
        t: &Template,
        records: &[Record],
        out: &Path,
        name: &str,
        dname: &str,
    ) -> Result<(), Failure> {
        let values: Vec<Value> = records.iter().map(|r| r.value.clone()).collect();
        let merged = t
            .merge(&values, self.restart_page_numbers)
            .map_err(|failed| {
                let msgs: Vec<String> = failed
                    .iter()
                    .map(|(i, d)| {
                        report(&format!("{name} ({})", Self::at(dname, &records[*i])), &d.0)
                    })
                    .collect();
                Failure(1, msgs.join("\n"))
            })?;
        let rendered = self
            .renderer
            .render_value(&merged, self.format)
            .map_err(|e| match e {
                RenderError::Invalid(d) => Failure(1, report(name, &d.0)),
                other => Failure(1, format!("{name}: {other}")),
            })?;
        if !self.quiet && !rendered.warnings.is_empty() {
            eprintln!("{}", report(name, &rendered.warnings));
        }
        let bytes = match rendered.output {
            Output::Pdf(b) => b,
            _ => return Err(Failure(2, "error: --merge writes PDF".into())),
        };
        write_out(out, &bytes)?;
        if !self.quiet && out != Path::new("-") {
            eprintln!(
                "{name}: {} records, {} pages written to {}",
                records.len(),
                rendered.pages,
                out.display()
            );
        }
        Ok(())
    }

    /// The file name of each record, checked: no folders, no clashes.
    fn file_names(
        &self,
        t: &Template,
        records: &[Record],
        name: &str,
        dname: &str,
    ) -> Result<Vec<String>, Failure> {
        let ext = match self.format {
            Format::Pdf => "pdf",
            Format::Svg => "svg",
            Format::Png => "png",
        };
        let width = records.len().to_string().len();
        let stem = self
            .input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "record".into());
        let mut names = Vec::with_capacity(records.len());
        let mut problems = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (i, r) in records.iter().enumerate() {
            let n = match t.file_name(&r.value) {
                None => format!("{stem}-{:0width$}.{ext}", i + 1),
                Some(Ok(n)) => {
                    let n = n.trim().to_string();
                    if Path::new(&n).extension().is_none() {
                        format!("{n}.{ext}")
                    } else {
                        n
                    }
                }
                Some(Err(d)) => {
                    problems.push(report(&format!("{name} ({})", Self::at(dname, r)), &d.0));
                    continue;
                }
            };
            let bad = n.is_empty()
                || n.starts_with('.')
                || n.contains(['/', '\\', '\0'])
                || n.chars().any(char::is_control);
            if bad {
                problems.push(format!(
                    "{}: the file name \"{n}\" is not a plain file name (no folders, no leading dot)",
                    Self::at(dname, r)
                ));
                continue;
            }
            if let Some(prev) = seen.insert(n.clone(), i) {
                problems.push(format!(
                    "{}: the file name \"{n}\" is also the name of {}",
                    Self::at(dname, r),
                    Self::at(dname, &records[prev])
                ));
                continue;
            }
            names.push(n);
        }
        if problems.is_empty() {
            Ok(names)
        } else {
            Err(Failure(1, problems.join("\n")))
        }
    }

    /// One file per record, rendered on every core.
    fn files(
        &self,
        t: &Template,
        records: &[Record],
        dir: &Path,
        name: &str,
        dname: &str,
    ) -> Result<(), Failure> {
        let names = self.file_names(t, records, name, dname)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure(1, format!("{}: cannot create: {e}", dir.display())))?;
        let started = Instant::now();
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(
                Some(records.len() as u64),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} records, {per_sec}, {eta} left")
            {
                b.set_style(style);
            }
            b
        };
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, records.len());
        // Records are spread over the cores; each is then written on its own thread.
        let single;
        let renderer = if jobs > 1 {
            single = self.renderer.clone().single_threaded();
            &single
        } else {
            self.renderer
        };
        let next = AtomicUsize::new(0);
        let failures: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
        let warnings: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = records.get(i) else { break };
                        let at = format!("{name} ({})", Self::at(dname, r));
                        let path: PathBuf = dir.join(&names[i]);
                        let result = renderer.render_template(t, &r.value, self.format);
                        let outcome = match result {
                            Ok(rendered) => {
                                if !rendered.warnings.is_empty() {
                                    let w = report(&at, &rendered.warnings);
                                    if let Ok(mut ws) = warnings.lock() {
                                        ws.push((i, w));
                                    }
                                }
                                match rendered.output {
                                    Output::Pdf(b) => write_out(&path, &b),
                                    Output::Svg(pages) => pages
                                        .first()
                                        .map_or(Ok(()), |p| write_out(&path, p.as_bytes())),
                                    Output::Png(pages) => {
                                        pages.first().map_or(Ok(()), |p| write_out(&path, p))
                                    }
                                }
                                .map_err(|Failure(_, m)| m)
                            }
                            Err(RenderError::Invalid(d)) => Err(report(&at, &d.0)),
                            Err(e) => Err(format!("{at}: {e}")),
                        };
                        if let Err(m) = outcome
                            && let Ok(mut f) = failures.lock()
                        {
                            f.push((i, m));
                        }
                        bar.inc(1);
                    }
                });
            }
        });
        bar.finish_and_clear();
        let mut warnings = warnings.into_inner().unwrap_or_default();
        warnings.sort();
        if !self.quiet {
            for (_, w) in &warnings {
                eprintln!("{w}");
            }
        }
        let mut failures = failures.into_inner().unwrap_or_default();
        failures.sort();
        let written = records.len() - failures.len();
        if !self.quiet {
            eprintln!(
                "{name}: {written} of {} records written to {} in {:.2} s on {jobs} thread{}",
                records.len(),
                dir.display(),
                started.elapsed().as_secs_f64(),
                if jobs == 1 { "" } else { "s" }
            );
        }
        if failures.is_empty() {
            Ok(())
        } else {
            let msgs: Vec<String> = failures.into_iter().map(|(_, m)| m).collect();
            Err(Failure(1, msgs.join("\n")))
        }
    }
}
