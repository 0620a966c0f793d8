//! What bounds a render: [`Limits`] on what input may cost, and the caller's
//! [`Guard`] over a render that is running.
//!
//! Input is hostile: every class of it has a bound here, checked before the work it
//! bounds (an image's pixels from its header, an SVG's expanded size from a scan) or
//! while it grows (a template's output, the page count). The defaults suit a hosted
//! service; `docs/security.md` lists each with its setting.
//!
//! The engine has no clock and no view of the process's memory. A caller that needs a
//! deadline, a cancel button or a memory budget gives a [`Guard`], which the engine
//! asks between steps: every few thousand values a template produces, every block and
//! every page laid out (and so every page written, since the PDF and PNG writers take
//! pages as layout hands them over). An answer other than `Ok` stops the render with an
//! error carrying the guard's reason.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Bounds on what one render may cost. Each field is also the name of its setting: in
/// the service's `limits.engine` section, in `ode render --limit NAME=VALUE`, and in
/// the npm engine's `setLimits`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A document with more pages is refused.
    pub max_pages: usize,
    /// Largest raster image, in pixels (width × height), checked from its header before
    /// it is decoded. Decoding takes up to 4 bytes a pixel (8 for a 16-bit PNG shown at
    /// full resolution).
    pub max_image_pixels: u64,
    /// Largest SVG text, in bytes, after gzip decompression; the SVGs nested in an
    /// image count towards the same total.
    pub max_svg_bytes: usize,
    /// Most elements an SVG image may expand to: its own, those `use` elements repeat,
    /// those markers repeat on every vertex, and those of the SVGs nested in it.
    pub max_svg_elements: u64,
    /// Deepest nesting of SVG elements, `use` references followed.
    pub max_svg_depth: usize,
    /// How deeply SVG images may contain SVG images.
    pub max_svg_nesting: usize,
    /// Memory a template's expanded document may take, in bytes, counted as it is
    /// produced (each JSON value as 128 bytes plus its text); a merge counts all its
    /// records together.
    pub max_template_bytes: usize,
    /// Work allowed per template expression or string (minijinja fuel units).
    pub template_fuel: u64,
    /// How deeply template partials may include partials.
    pub max_include_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pages: 20_000,
            max_image_pixels: 50_000_000,
            max_svg_bytes: 16 << 20,
            max_svg_elements: 250_000,
            max_svg_depth: 128,
            max_svg_nesting: 4,
            max_template_bytes: 128 << 20,
            template_fuel: 5_000_000,
            max_include_depth: 16,
        }
    }
}

impl Limits {
    /// The defaults for a hosted service: as [`Limits::default`], with a page budget of
    /// 2,000.
    pub fn hosted() -> Self {
        Limits {
            max_pages: 2_000,
            ..Limits::default()
        }
    }

    /// The names of the limits (their settings), in order.
    pub fn names() -> Vec<String> {
        match serde_json::to_value(Limits::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Sets one limit by name.
    ///
    /// # Errors
    /// An unknown name (with the closest known one) or a value of the wrong kind.
    ///
    /// ```
    /// let mut limits = ode_core::Limits::default();
    /// limits.set("max_pages", 10.into()).unwrap();
    /// assert_eq!(limits.max_pages, 10);
    /// let e = limits.set("max_page", 10.into()).unwrap_err();
    /// assert_eq!(e, "unknown limit \"max_page\" (did you mean \"max_pages\"?)");
    /// ```
    pub fn set(&mut self, name: &str, value: serde_json::Value) -> Result<(), String> {
        let mut all = serde_json::to_value(*self).map_err(|e| e.to_string())?;
        let Some(map) = all.as_object_mut() else {
            return Err("limits are not a map".into());
        };
        if !map.contains_key(name) {
            let names = Limits::names();
            let mut msg = format!("unknown limit \"{name}\"");
            if let Some(s) = crate::diag::suggest(name, names.iter().map(String::as_str)) {
                msg.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            return Err(msg);
        }
        map.insert(name.to_string(), value.clone());
        *self = serde_json::from_value(all)
            .map_err(|_| format!("limit \"{name}\" must be a whole number, not {value}"))?;
        Ok(())
    }
}

/// Asked between steps of a render whether it may go on. The default always says yes.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// let cancelled = Arc::new(AtomicBool::new(true));
/// let flag = cancelled.clone();
/// let guard = ode_core::Guard::new(move || {
///     if flag.load(Ordering::Relaxed) { Err("the render was cancelled".into()) } else { Ok(()) }
/// });
/// assert_eq!(guard.check(), Err("the render was cancelled".to_string()));
/// ```
#[derive(Clone, Default)]
pub struct Guard(Option<Arc<dyn Fn() -> Result<(), String> + Send + Sync>>);

impl Guard {
    /// A guard that asks `check`; an `Err` is the reason the render stops.
    pub fn new(check: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> Self {
        Guard(Some(Arc::new(check)))
    }

    /// Whether the render may go on.
    ///
    /// # Errors
    /// The reason it may not.
    pub fn check(&self) -> Result<(), String> {
        match &self.0 {
            Some(f) => f(),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Guard(..)"
        } else {
            "Guard(none)"
        })
    }
}
