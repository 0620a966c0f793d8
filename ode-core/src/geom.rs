//! Geometry in PDF points (1/72 inch), with the origin at the top left and y growing down.

use std::fmt;

/// A length in PDF points (1/72 inch).
#[derive(
    Debug, Clone, Copy, PartialEq, PartialOrd, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Pt(pub f32);

impl Pt {
    /// Zero points.
    pub const ZERO: Pt = Pt(0.0);
    /// Millimetres to points.
    pub fn from_mm(mm: f32) -> Pt {
        Pt(mm * 72.0 / 25.4)
    }
    /// The raw number of points.
    pub fn get(self) -> f32 {
        self.0
    }
}

impl fmt::Display for Pt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}pt", self.0)
    }
}

/// A point on a page.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Point {
    /// Distance from the left edge.
    pub x: f32,
    /// Distance from the top edge.
    pub y: f32,
}

impl Point {
    /// A point from its coordinates in points.
    pub fn new(x: f32, y: f32) -> Self {
        Point { x, y }
    }
}

/// A width and a height.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Size {
    /// Horizontal extent.
    pub width: f32,
    /// Vertical extent.
    pub height: f32,
}

impl Size {
    /// A size from its extents in points.
    pub fn new(width: f32, height: f32) -> Self {
        Size { width, height }
    }
}

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub fn new(x: f32, y: f32, width: f32, height: f32) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }
    /// The right edge.
    pub fn right(&self) -> f32 {
        self.x + self.width
    }
    /// The bottom edge.
    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }
    /// The same rectangle moved by `dx`, `dy`.
    pub fn translate(self, dx: f32, dy: f32) -> Rect {
        Rect {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }
}

/// An RGBA color, 8 bits per channel. In JSON it is a string: `#rrggbb`, `#rgb`,
/// `#rrggbbaa` or a CSS basic color name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha (255 is opaque).
    pub a: u8,
}

impl Color {
    /// Opaque black.
    pub const BLACK: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 255,
    };
    /// Opaque white.
    pub const WHITE: Color = Color {
        r: 255,
        g: 255,
        b: 255,
        a: 255,
    };

    /// An opaque color.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }

    /// `#rrggbb` (with `aa` appended when not opaque).
    pub fn to_hex(self) -> String {
        if self.a == 255 {
            format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
        } else {
            format!("#{:02x}{:02x}{:02x}{:02x}", self.r, self.g, self.b, self.a)
        }
    }

    /// Parses `#rgb`, `#rrggbb`, `#rrggbbaa` or one of the CSS basic color names.
    pub fn parse(s: &str) -> Option<Color> {
        if let Some(hex) = s.strip_prefix('#') {
            let digit = |i: usize| u8::from_str_radix(hex.get(i..i + 1)?, 16).ok();
            let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
            return match hex.len() {
                3 => Some(Color::rgb(digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
                6 => Some(Color::rgb(byte(0)?, byte(2)?, byte(4)?)),
                8 => Some(Color {
                    r: byte(0)?,
                    g: byte(2)?,
                    b: byte(4)?,
                    a: byte(6)?,
                }),
                _ => None,
            };
        }
        let c = match s.to_ascii_lowercase().as_str() {
            "black" => Color::BLACK,
            "white" => Color::WHITE,
            "red" => Color::rgb(255, 0, 0),
            "green" => Color::rgb(0, 128, 0),
            "blue" => Color::rgb(0, 0, 255),
            "gray" | "grey" => Color::rgb(128, 128, 128),
            "silver" => Color::rgb(192, 192, 192),
            "maroon" => Color::rgb(128, 0, 0),
            "yellow" => Color::rgb(255, 255, 0),
            "olive" => Color::rgb(128, 128, 0),
            "lime" => Color::rgb(0, 255, 0),
            "aqua" | "cyan" => Color::rgb(0, 255, 255),
            "teal" => Color::rgb(0, 128, 128),
            "navy" => Color::rgb(0, 0, 128),
            "fuchsia" | "magenta" => Color::rgb(255, 0, 255),
            "purple" => Color::rgb(128, 0, 128),
            "orange" => Color::rgb(255, 165, 0),
            "transparent" => Color {
                r: 0,
                g: 0,
                b: 0,
                a: 0,
            },
            _ => return None,
        };
        Some(c)
    }
}

/// A 2D affine transform `[a b c d e f]` as in PDF and SVG.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Transform {
    /// Horizontal scale.
    pub a: f32,
    /// Vertical shear.
    pub b: f32,
    /// Horizontal shear.
    pub c: f32,
    /// Vertical scale.
    pub d: f32,
    /// Horizontal translation.
    pub e: f32,
    /// Vertical translation.
    pub f: f32,
}

impl Transform {
    /// A rotation by `degrees` (clockwise on the page, since y grows down) about `center`.
    pub fn rotate_about(degrees: f32, center: Point) -> Transform {
        let (s, c) = degrees.to_radians().sin_cos();
        Transform {
            a: c,
            b: s,
            c: -s,
            d: c,
            e: center.x - c * center.x + s * center.y,
            f: center.y - s * center.x - c * center.y,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_parse_in_every_hex_form_and_by_name() {
        assert_eq!(Color::parse("#fff"), Some(Color::WHITE));
        assert_eq!(Color::parse("#102030"), Some(Color::rgb(16, 32, 48)));
        assert_eq!(Color::parse("#10203080").map(|c| c.a), Some(128));
        assert_eq!(Color::parse("Navy"), Some(Color::rgb(0, 0, 128)));
        assert_eq!(Color::parse("#12"), None);
        assert_eq!(Color::parse("#gggggg"), None);
        assert_eq!(Color::parse("#é12"), None);
    }

    #[test]
    fn a_rotation_keeps_its_center_fixed() {
        let c = Point::new(100.0, 200.0);
        let t = Transform::rotate_about(-45.0, c);
        let x = t.a * c.x + t.c * c.y + t.e;
        let y = t.b * c.x + t.d * c.y + t.f;
        assert!((x - c.x).abs() < 1e-3 && (y - c.y).abs() < 1e-3);
    }
}
