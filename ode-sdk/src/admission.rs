//! Which renders run, and how much memory they may hold.
//!
//! Renders are CPU-bound and can be memory-hungry, and a pod's memory limit is enforced
//! by the kernel killing the pod, with every request in it. So a process admits its
//! renders here:
//!
//! - **Slots.** At most `slots` renders run at once (one per core: more only adds
//!   latency). A render waiting for a slot gets one in turn *by tenant*, round robin, so
//!   a burst of one tenant's heavy requests cannot make another tenant's small request
//!   wait behind all of them.
//! - **Memory.** Each render runs in an [`ode_alloc::Scope`] and its [`Guard`] (asked by
//!   the engine before every block and page) stops it when it holds more than
//!   `per_render` bytes, and, when the renders of the process together hold more than
//!   `budget`, stops the largest of them, so that the others finish and the process
//!   stays under its limit. (The counts are heap bytes; they stay at zero when the
//!   process does not allocate through `ode_alloc::Counting`.)
//! - **Time.** [`Permit::cancel`] stops a render at its next step, so a render past its
//!   deadline stops using the CPU instead of running on after its client got a 504.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use ode_alloc::Scope;
use ode_core::Guard;
use tokio::sync::oneshot;

use crate::domain::TenantId;

/// Why a render was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Past its time budget.
    Timeout,
    /// It held more memory than one render may.
    OwnLimit,
    /// The renders together held more than the process's budget, and it was the
    /// largest: retrying later should work.
    Pressure,
}

impl Stop {
    fn code(self) -> u8 {
        match self {
            Stop::Timeout => 1,
            Stop::OwnLimit => 2,
            Stop::Pressure => 3,
        }
    }

    fn from_code(c: u8) -> Option<Stop> {
        match c {
            1 => Some(Stop::Timeout),
            2 => Some(Stop::OwnLimit),
            3 => Some(Stop::Pressure),
            _ => None,
        }
    }
}

/// The renders of one process.
#[derive(Clone)]
pub struct Admission {
    shared: Arc<Shared>,
}

struct Shared {
    budget: usize,
    per_render: usize,
    state: Mutex<State>,
}

struct State {
    free: usize,
    running: Vec<Arc<Ticket>>,
    /// Waiting renders by tenant, and the order tenants take turns in.
    waiting: BTreeMap<TenantId, VecDeque<oneshot::Sender<Permit>>>,
    turns: VecDeque<TenantId>,
}

struct Ticket {
    scope: Arc<Scope>,
    stop: AtomicU8,
}

/// A running render's slot; dropping it frees the slot for the next tenant in turn.
pub struct Permit {
    shared: Arc<Shared>,
    ticket: Option<Arc<Ticket>>,
}

impl Admission {
    /// `slots` renders at once, each holding at most `per_render` bytes, all of them at
    /// most `budget` bytes.
    pub fn new(slots: usize, per_render: usize, budget: usize) -> Self {
        Admission {
            shared: Arc::new(Shared {
                budget,
                per_render,
                state: Mutex::new(State {
                    free: slots.max(1),
                    running: Vec::new(),
                    waiting: BTreeMap::new(),
                    turns: VecDeque::new(),
                }),
            }),
        }
    }

    /// Waits for a slot, in turn by tenant.
    pub async fn admit(&self, tenant: TenantId) -> Permit {
        let rx = {
            let mut state = self.shared.lock();
            if state.free > 0 && state.waiting.is_empty() {
                state.free -= 1;
                return self.shared.issue(&mut state);
            }
            let (tx, rx) = oneshot::channel();
            let queue = state.waiting.entry(tenant).or_default();
            if queue.is_empty() {
                state.turns.push_back(tenant);
            }
            state
                .waiting
                .get_mut(&tenant)
                .expect("just inserted")
                .push_back(tx);
            // A slot may be free with others waiting only for a moment: hand it on.
            if state.free > 0 {
                state.free -= 1;
                self.shared.hand_on(&mut state);
            }
            rx
        };
        rx.await
            .expect("a waiting render's sender is only dropped after sending")
    }

    /// Renders running now.
    pub fn running(&self) -> usize {
        self.shared.lock().running.len()
    }

    /// Renders waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.shared.lock().waiting.values().map(VecDeque::len).sum()
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A permit for a slot already taken from `free`.
    fn issue(self: &Arc<Self>, state: &mut State) -> Permit {
        let ticket = Arc::new(Ticket {
            scope: Scope::new(),
            stop: AtomicU8::new(0),
        });
        state.running.push(ticket.clone());
        Permit {
            shared: self.clone(),
            ticket: Some(ticket),
        }
    }

    /// Gives a taken slot to the next waiting tenant in turn, or back to `free`.
    fn hand_on(self: &Arc<Self>, state: &mut State) {
        while let Some(tenant) = state.turns.pop_front() {
            let Some(queue) = state.waiting.get_mut(&tenant) else {
                continue;
            };
            let tx = queue.pop_front();
            if queue.is_empty() {
                state.waiting.remove(&tenant);
            } else {
                state.turns.push_back(tenant);
            }
            let Some(tx) = tx else { continue };
            let permit = self.issue(state);
            match tx.send(permit) {
                Ok(()) => return,
                // The waiter gave up (its request timed out): take the permit back
                // without its drop handing the slot on (the lock is held).
                Err(mut p) => {
                    if let Some(t) = p.ticket.take() {
                        state.running.retain(|r| !Arc::ptr_eq(r, &t));
                    }
                }
            }
        }
        state.free += 1;
    }

    /// What the running renders hold together, and the largest of them.
    fn pressure(&self) -> (usize, Option<Arc<Ticket>>) {
        let state = self.lock();
        let total = state.running.iter().map(|t| t.scope.live()).sum();
        let largest = state
            .running
            .iter()
            .filter(|t| t.stop.load(Ordering::Relaxed) == 0)
            .max_by_key(|t| t.scope.live())
            .cloned();
        (total, largest)
    }
}

impl Permit {
    /// Counts this thread's allocations towards the render until the guard is dropped:
    /// enter it on the thread that renders.
    pub fn enter(&self) -> ode_alloc::Entered {
        Scope::enter(&self.ticket().scope)
    }

    /// The guard the render's engine asks: stops it when cancelled, over its own memory
    /// limit, or the largest render while the process is over its budget.
    pub fn guard(&self) -> Guard {
        let ticket = self.ticket().clone();
        let shared = self.shared.clone();
        Guard::new(move || {
            if let Some(stop) = Stop::from_code(ticket.stop.load(Ordering::Relaxed)) {
                return Err(message(stop, &shared));
            }
            let live = ticket.scope.live();
            if live > shared.per_render {
                ticket.stop.store(Stop::OwnLimit.code(), Ordering::Relaxed);
                return Err(message(Stop::OwnLimit, &shared));
            }
            // Renders holding under a megabyte do not look at the others (that takes the
            // lock): they cannot be what pushes the process over.
            if live > 1 << 20 {
                let (total, largest) = shared.pressure();
                if total > shared.budget
                    && let Some(largest) = largest
                {
                    largest.stop.store(Stop::Pressure.code(), Ordering::Relaxed);
                    if Arc::ptr_eq(&largest, &ticket) {
                        return Err(message(Stop::Pressure, &shared));
                    }
                }
            }
            Ok(())
        })
    }

    /// Stops the render at its next step.
    pub fn cancel(&self, why: Stop) {
        let _ = self.ticket().stop.compare_exchange(
            0,
            why.code(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// Why the render was stopped, if it was.
    pub fn stopped(&self) -> Option<Stop> {
        Stop::from_code(self.ticket().stop.load(Ordering::Relaxed))
    }

    /// The most memory the render held, in bytes.
    pub fn peak(&self) -> usize {
        self.ticket().scope.peak()
    }

    fn ticket(&self) -> &Arc<Ticket> {
        self.ticket
            .as_ref()
            .expect("only a permit taken back inside hand_on has no ticket")
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let shared = self.shared.clone();
        let mut state = shared.lock();
        state.running.retain(|r| !Arc::ptr_eq(r, &ticket));
        shared.hand_on(&mut state);
    }
}

fn message(stop: Stop, shared: &Shared) -> String {
    match stop {
        Stop::Timeout => "the render took longer than its time budget".into(),
        Stop::OwnLimit => format!(
            "the render needs more than {} MB of memory, the limit of one render (the \
             limits.render_memory_mb setting)",
            shared.per_render >> 20
        ),
        Stop::Pressure => "the server is short of memory for renders: this one, the \
                           largest, was stopped so that the others finish; retry later"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    // The counting allocator, so that scopes see what the tests allocate.
    #[global_allocator]
    static ALLOC: ode_alloc::Counting = ode_alloc::Counting;

    fn tenant() -> TenantId {
        TenantId::new()
    }

    #[tokio::test]
    async fn slots_go_round_robin_by_tenant() {
        let admission = Admission::new(1, 1 << 30, 1 << 30);
        let (heavy, light) = (tenant(), tenant());
        let first = admission.admit(heavy).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // Three more of the heavy tenant queue up first, then one light request.
        for (who, name) in [(heavy, "h1"), (heavy, "h2"), (heavy, "h3"), (light, "l1")] {
            let (a, order) = (admission.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let p = a.admit(who).await;
                order.lock().unwrap().push(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(p);
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(admission.waiting(), 4);
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        // The light tenant's request went second, not behind all of the heavy ones.
        assert_eq!(*order.lock().unwrap(), ["h1", "l1", "h2", "h3"]);
        assert_eq!((admission.running(), admission.waiting()), (0, 0));
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_keep_a_slot() {
        let admission = Admission::new(1, 1 << 30, 1 << 30);
        let held = admission.admit(tenant()).await;
        let gave_up =
            tokio::time::timeout(Duration::from_millis(20), admission.admit(tenant())).await;
        assert!(gave_up.is_err());
        drop(held);
        // The slot is free again: admitted at once.
        tokio::time::timeout(Duration::from_millis(100), admission.admit(tenant()))
            .await
            .expect("the slot came back");
    }

    #[tokio::test]
    async fn a_cancelled_render_is_stopped_by_its_guard() {
        let admission = Admission::new(2, 1 << 30, 1 << 30);
        let p = admission.admit(tenant()).await;
        let guard = p.guard();
        assert_eq!(guard.check(), Ok(()));
        p.cancel(Stop::Timeout);
        assert_eq!(
            guard.check(),
            Err("the render took longer than its time budget".into())
        );
        assert_eq!(p.stopped(), Some(Stop::Timeout));
    }

    #[tokio::test]
    async fn a_render_over_its_own_limit_is_stopped() {
        let admission = Admission::new(1, 8 << 20, 1 << 30);
        let p = admission.admit(tenant()).await;
        let guard = p.guard();
        let _in = p.enter();
        let held = vec![0u8; 4 << 20];
        assert_eq!(guard.check(), Ok(()));
        let more = vec![0u8; 8 << 20];
        let e = guard.check().unwrap_err();
        assert!(e.contains("needs more than 8 MB of memory"), "{e}");
        assert_eq!(p.stopped(), Some(Stop::OwnLimit));
        assert!(p.peak() >= 12 << 20);
        drop((held, more));
    }

    #[tokio::test]
    async fn over_the_budget_the_largest_render_is_stopped_and_the_others_go_on() {
        let admission = Admission::new(2, 1 << 30, 24 << 20);
        let (big, small) = (
            admission.admit(tenant()).await,
            admission.admit(tenant()).await,
        );
        let (big_guard, small_guard) = (big.guard(), small.guard());
        let big = Arc::new(big);
        let b = big.clone();
        // The big render holds 20 MB on its own thread.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let big_thread = std::thread::spawn(move || {
            let _in = b.enter();
            let held = vec![1u8; 20 << 20];
            ready_tx.send(()).unwrap();
            hold_rx.recv().unwrap();
            drop(held);
        });
        ready_rx.recv().unwrap();
        // The small one grows to 8 MB: together over 24 MB.
        let _in = small.enter();
        let mine = vec![2u8; 8 << 20];
        assert_eq!(small_guard.check(), Ok(()), "the small render goes on");
        let e = big_guard.check().unwrap_err();
        assert!(e.contains("short of memory"), "{e}");
        assert_eq!(big.stopped(), Some(Stop::Pressure));
        assert_eq!(small.stopped(), None);
        hold_tx.send(()).unwrap();
        big_thread.join().unwrap();
        drop(mine);
    }
}
