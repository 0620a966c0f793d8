//! The caller's say over a running render.
//!
//! The engine has no clock and no view of the process's memory. A caller that needs a
//! deadline, a cancel button or a memory budget gives a [`Guard`], which the engine
//! asks between steps: every few thousand values a template produces, every block and
//! every page laid out (and so every page written, since the PDF and PNG writers take
//! pages as layout hands them over). An answer other than `Ok` stops the render with an
//! error carrying the guard's reason.

use std::fmt;
use std::sync::Arc;

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
