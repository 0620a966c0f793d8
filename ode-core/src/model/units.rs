//! Lengths, paper sizes, edges, column widths and colors as they appear in JSON.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use crate::geom::Color;

/// A length in points. In JSON: a number (points) or a string with a unit:
/// `"12pt"`, `"2cm"`, `"20mm"`, `"1in"`, `"16px"` (1px = 0.75pt).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Length(pub f32);

impl Length {
    /// The length in points.
    pub fn pt(self) -> f32 {
        self.0
    }

    /// Parses a length string with a unit; a bare number string is points.
    pub fn parse(s: &str) -> Option<Length> {
        let s = s.trim();
        let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let v: f32 = num.trim().parse().ok()?;
        if !v.is_finite() {
            return None;
        }
        let factor = match unit.trim() {
            "" | "pt" => 1.0,
            "mm" => 72.0 / 25.4,
            "cm" => 72.0 / 2.54,
            "in" => 72.0,
            "px" => 0.75,
            _ => return None,
        };
        Some(Length(v * factor))
    }
}

impl Serialize for Length {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(self.0)
    }
}

impl JsonSchema for Length {
    fn schema_name() -> Cow<'static, str> {
        "Length".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A length: a number of points, or a string with a unit (pt, mm, cm, in, px)",
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": "^\\s*-?[0-9]+(\\.[0-9]+)?\\s*(pt|mm|cm|in|px)?\\s*$"}
            ]
        })
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl JsonSchema for Color {
    fn schema_name() -> Cow<'static, str> {
        "Color".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A color: #rgb, #rrggbb, #rrggbbaa or a CSS basic color name",
            "type": "string",
            "examples": ["#1f2937", "navy"]
        })
    }
}

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PaperSize {
    /// 297 × 420 mm.
    A3,
    /// 210 × 297 mm.
    #[default]
    A4,
    /// 148 × 210 mm.
    A5,
    /// 8.5 × 11 in.
    Letter,
    /// 8.5 × 14 in.
    Legal,
    /// Any size.
    Custom {
        /// Width.
        width: Length,
        /// Height.
        height: Length,
    },
}

impl PaperSize {
    /// The named sizes and their JSON names.
    pub const NAMES: [(&'static str, PaperSize); 5] = [
        ("A3", PaperSize::A3),
        ("A4", PaperSize::A4),
        ("A5", PaperSize::A5),
        ("Letter", PaperSize::Letter),
        ("Legal", PaperSize::Legal),
    ];

    /// Portrait width and height in points.
    pub fn dimensions(self) -> (f32, f32) {
        let mm = |w: f32, h: f32| (w * 72.0 / 25.4, h * 72.0 / 25.4);
        match self {
            PaperSize::A3 => mm(297.0, 420.0),
            PaperSize::A4 => mm(210.0, 297.0),
            PaperSize::A5 => mm(148.0, 210.0),
            PaperSize::Letter => (612.0, 792.0),
            PaperSize::Legal => (612.0, 1008.0),
            PaperSize::Custom { width, height } => (width.0, height.0),
        }
    }
}

impl Serialize for PaperSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if let PaperSize::Custom { width, height } = self {
            let mut m = s.serialize_map(Some(2))?;
            m.serialize_entry("width", width)?;
            m.serialize_entry("height", height)?;
            return m.end();
        }
        let name = PaperSize::NAMES
            .iter()
            .find(|(_, p)| p == self)
            .map(|(n, _)| *n)
            .unwrap_or("A4");
        s.serialize_str(name)
    }
}

impl JsonSchema for PaperSize {
    fn schema_name() -> Cow<'static, str> {
        "PaperSize".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let len = g.subschema_for::<Length>();
        json_schema!({
            "description": "A paper name or a custom size",
            "anyOf": [
                {"enum": ["A3", "A4", "A5", "Letter", "Legal"]},
                {"type": "object", "properties": {"width": len, "height": len},
                 "required": ["width", "height"], "additionalProperties": false}
            ]
        })
    }
}

/// Lengths for the four sides of a box. In JSON: one length for all four sides, or an
/// object with any of `top`, `right`, `bottom`, `left` (missing sides are 0).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Edges {
    /// Top.
    pub top: Length,
    /// Right.
    pub right: Length,
    /// Bottom.
    pub bottom: Length,
    /// Left.
    pub left: Length,
}

impl Edges {
    /// The same length on every side.
    pub fn uniform(l: Length) -> Edges {
        Edges {
            top: l,
            right: l,
            bottom: l,
            left: l,
        }
    }
}

impl Serialize for Edges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("top", &self.top)?;
        m.serialize_entry("right", &self.right)?;
        m.serialize_entry("bottom", &self.bottom)?;
        m.serialize_entry("left", &self.left)?;
        m.end()
    }
}

impl JsonSchema for Edges {
    fn schema_name() -> Cow<'static, str> {
        "Edges".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let len = g.subschema_for::<Length>();
        json_schema!({
            "description": "One length for all sides, or per side",
            "anyOf": [
                len,
                {"type": "object", "properties": {"top": len, "right": len, "bottom": len, "left": len},
                 "additionalProperties": false}
            ]
        })
    }
}

/// A table column's width.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ColumnWidth {
    /// A fixed length.
    Fixed(Length),
    /// A share of the width left after fixed and auto columns (`"2fr"`).
    Relative(f32),
    /// As wide as the content needs, within the space available.
    #[default]
    Auto,
}

impl ColumnWidth {
    /// Parses `"auto"`, `"2fr"` or a length string.
    pub fn parse(s: &str) -> Option<ColumnWidth> {
        let t = s.trim();
        if t == "auto" {
            return Some(ColumnWidth::Auto);
        }
        if let Some(n) = t.strip_suffix("fr") {
            let v: f32 = n.trim().parse().ok()?;
            return (v.is_finite() && v > 0.0).then_some(ColumnWidth::Relative(v));
        }
        Length::parse(t).map(ColumnWidth::Fixed)
    }
}

impl Serialize for ColumnWidth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ColumnWidth::Fixed(l) => l.serialize(s),
            ColumnWidth::Relative(f) => s.serialize_str(&format!("{f}fr")),
            ColumnWidth::Auto => s.serialize_str("auto"),
        }
    }
}

impl JsonSchema for ColumnWidth {
    fn schema_name() -> Cow<'static, str> {
        "ColumnWidth".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let len = g.subschema_for::<Length>();
        json_schema!({
            "description": "A length, a share such as \"2fr\", or \"auto\"",
            "anyOf": [len, {"type": "string", "pattern": "^\\s*([0-9]+(\\.[0-9]+)?fr|auto)\\s*$"}]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_convert_every_unit_to_points() {
        assert_eq!(Length::parse("12"), Some(Length(12.0)));
        assert_eq!(Length::parse("12pt"), Some(Length(12.0)));
        assert_eq!(Length::parse("1in"), Some(Length(72.0)));
        assert_eq!(Length::parse("16px"), Some(Length(12.0)));
        assert!((Length::parse("2cm").unwrap().0 - 56.6929).abs() < 1e-3);
        assert!((Length::parse("25.4 mm").unwrap().0 - 72.0).abs() < 1e-3);
        assert_eq!(Length::parse("12furlong"), None);
        assert_eq!(Length::parse("pt"), None);
    }

    #[test]
    fn column_widths_parse_shares_auto_and_lengths() {
        assert_eq!(ColumnWidth::parse("2fr"), Some(ColumnWidth::Relative(2.0)));
        assert_eq!(ColumnWidth::parse("auto"), Some(ColumnWidth::Auto));
        assert_eq!(
            ColumnWidth::parse("1in"),
            Some(ColumnWidth::Fixed(Length(72.0)))
        );
        assert_eq!(ColumnWidth::parse("0fr"), None);
    }
}
