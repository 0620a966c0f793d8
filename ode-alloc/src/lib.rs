//! The allocator of ODE's processes (the `ode` command, `ode-api`, `ode-worker`):
//! mimalloc, which gives freed memory back to the system soon after a spike (glibc's
//! allocator keeps per-thread arenas), wrapped so that what each render allocates is
//! counted.
//!
//! A render runs inside a [`Scope`] ([`Scope::enter`] on each thread working for it):
//! every allocation on that thread adds its size to the scope and every free subtracts
//! it, so [`Scope::live`] is the heap the render holds now and [`Scope::peak`] the most
//! it held. The service's render guard reads them to hold each render to its memory
//! limit and all renders of a process to a budget. Threads outside any scope pay one
//! thread-local read per allocation.
//!
//! ```text
//! #[global_allocator]
//! static ALLOC: ode_alloc::Counting = ode_alloc::Counting;
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// What a render holds on the heap, counted by [`Counting`].
#[derive(Debug, Default)]
pub struct Scope {
    live: AtomicIsize,
    peak: AtomicIsize,
}

thread_local! {
    /// The scope this thread's allocations count towards (null: none). A raw pointer
    /// with a `const` initializer: reading it never allocates, which an allocator's
    /// thread-local must not.
    static CURRENT: Cell<*const Scope> = const { Cell::new(std::ptr::null()) };
}

/// Set once the counting allocator has served an allocation: whether scopes count.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// mimalloc 3's option numbers (`mi_option_e` in its header; the crate's constants list
/// only some of them).
const ARENA_EAGER_COMMIT: i32 = 4;
const PURGE_DELAY: i32 = 15;

/// Sets mimalloc's options before its first allocation: memory is committed as it is
/// used and given back a millisecond after it is freed. With its defaults (eager
/// commit, a 10 ms purge delay) a render held more memory at its peak than glibc's
/// allocator: 94 MB against 48 MB for a letter under 200,000 combining marks, 150 MB
/// against 113 MB for a 100,000-row untagged table. Purging at once (0 ms) brought
/// those to 51 and 110 MB but made a 200,000-letter word in a narrow column 3.6 times
/// slower (16.3 s against 4.5 s: a purge per free); 1 ms keeps the memory (53 and 110
/// MB) and the speed (4.5 s). Measured with `benches/hostile/run.sh`.
fn tune() {
    // SAFETY: plain setters of mimalloc's option table, called before it allocates.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 1);
    }
}

impl Scope {
    /// A new, empty scope.
    pub fn new() -> Arc<Scope> {
        Arc::new(Scope::default())
    }

    /// Bytes allocated and not yet freed by threads in this scope (memory one thread
    /// allocates and another frees is counted where it happens).
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed).max(0) as usize
    }

    /// The most [`Scope::live`] has been.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed).max(0) as usize
    }

    /// Counts this thread's allocations towards `scope` until the returned guard is
    /// dropped (then the thread's previous scope is back).
    pub fn enter(scope: &Arc<Scope>) -> Entered {
        let previous = CURRENT.with(|c| c.replace(Arc::as_ptr(scope)));
        Entered {
            _scope: scope.clone(),
            previous,
        }
    }

    /// The scope this thread counts towards, to enter it on a helper thread.
    pub fn current() -> Option<Arc<Scope>> {
        let ptr = CURRENT.with(Cell::get);
        if ptr.is_null() {
            return None;
        }
        // The pointer was set by `enter` from an `Arc` that the `Entered` guard keeps
        // alive for as long as the pointer is set on this thread.
        #[allow(unsafe_code)]
        unsafe {
            Arc::increment_strong_count(ptr);
            Some(Arc::from_raw(ptr))
        }
    }

    /// Stops counting `bytes` the scope allocated that now belong to someone else: a
    /// render's finished output, which its caller keeps (and frees elsewhere).
    pub fn hand_over(&self, bytes: usize) {
        self.live.fetch_sub(
            isize::try_from(bytes).unwrap_or(isize::MAX),
            Ordering::Relaxed,
        );
    }

    fn add(&self, bytes: isize) {
        let now = self.live.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if bytes > 0 {
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
    }
}

/// Whether the process allocates through [`Counting`] (otherwise scopes stay at zero).
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// While alive, the thread's allocations count towards a scope.
#[must_use = "the scope counts only while this guard lives"]
pub struct Entered {
    _scope: Arc<Scope>,
    previous: *const Scope,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// mimalloc, counting into the thread's [`Scope`].
pub struct Counting;

fn count(bytes: isize) {
    // `try_with`: during thread teardown the thread-local may be gone.
    let _ = CURRENT.try_with(|c| {
        let ptr = c.get();
        if !ptr.is_null() {
            // Valid while set (see `Scope::current`).
            #[allow(unsafe_code)]
            unsafe {
                (*ptr).add(bytes);
            }
        }
    });
}

#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !INSTALLED.load(Ordering::Relaxed) && !INSTALLED.swap(true, Ordering::Relaxed) {
            tune();
        }
        // SAFETY: the caller's contract is passed on unchanged.
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as `alloc`.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOC: Counting = Counting;

    #[test]
    fn a_scope_counts_what_its_threads_hold() {
        let scope = Scope::new();
        {
            let _in = Scope::enter(&scope);
            let big = vec![1u8; 10 << 20];
            assert!(scope.live() >= 10 << 20);
            // A helper thread entering the same scope counts too.
            let shared = Scope::current().unwrap();
            std::thread::spawn(move || {
                let _in = Scope::enter(&shared);
                let more = vec![2u8; 5 << 20];
                std::hint::black_box(&more);
            })
            .join()
            .unwrap();
            drop(big);
        }
        assert!(installed());
        // The options are set.
        #[allow(unsafe_code)]
        let options = unsafe {
            (
                libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT),
                libmimalloc_sys::mi_option_get(PURGE_DELAY),
            )
        };
        assert_eq!(options, (0, 1));
        assert!(scope.peak() >= 15 << 20, "{}", scope.peak());
        assert!(scope.live() < 1 << 20, "{}", scope.live());
        // Outside the scope nothing counts.
        let outside = vec![3u8; 10 << 20];
        std::hint::black_box(&outside);
        assert!(scope.live() < 1 << 20);
        // An output handed over leaves the count, though it lives on.
        let output = {
            let _in = Scope::enter(&scope);
            vec![4u8; 8 << 20]
        };
        assert!(scope.live() >= 8 << 20);
        scope.hand_over(output.capacity());
        assert!(scope.live() < 1 << 20);
        drop(output);
    }
}
