//! Events for the running job, and reports from self-test windows.
//!
//! Browser events arrive through the exported entry points in `lib.rs`; the
//! ones that concern the running job are pushed into its channel here, and
//! the job's loop (`runner.rs`) awaits them with a deadline. Nothing polls.

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, select};
use protocol::actuator::Snapshot;
use std::cell::RefCell;
use std::collections::HashMap;

/// Something that happened to the running job.
#[derive(Debug)]
pub enum JobEvent {
    /// The job's tab sent a settled snapshot.
    Snapshot(Snapshot),
    /// The job's window was closed (by a person: the job closes it itself
    /// only after it ended).
    WindowClosed,
    /// The panel asked to cancel.
    Cancel,
    /// The vault answered the page's `create` (automatic mode).
    Attested { credential_id: String },
    /// The page asked for a credential and the browser's own authenticator
    /// handles it (manual mode).
    CeremonyStarted,
    /// The browser's own authenticator answered (manual mode).
    Observed { credential_id: String },
    /// The vault signed the sign-in check's `get`.
    Asserted,
    /// The vault could not answer: the job fails with this.
    VaultFailed(engine::Failure),
}

/// Which job the channel belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub window_id: i32,
    pub tab_id: i32,
}

thread_local! {
    static CURRENT: RefCell<Option<(Target, mpsc::UnboundedSender<JobEvent>)>> = const { RefCell::new(None) };
    /// The inbox [`preattach`] opened for a resumed job, until its loop takes it.
    static PENDING: RefCell<Option<(Target, Inbox)>> = const { RefCell::new(None) };
    static SELF_TEST: RefCell<HashMap<i32, oneshot::Sender<(Snapshot, bool)>>> = RefCell::new(HashMap::new());
    static SELF_TEST_EARLY: RefCell<HashMap<i32, (Snapshot, bool)>> = RefCell::new(HashMap::new());
}

/// The receiving end of the running job's events; dropping it detaches.
pub struct Inbox {
    rx: mpsc::UnboundedReceiver<JobEvent>,
}

/// Starts routing events of `target` to a new inbox, or hands over the one
/// [`preattach`] opened for it (with whatever arrived meanwhile).
pub fn attach(target: Target) -> Inbox {
    if let Some(inbox) = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        match p.take() {
            Some((t, inbox)) if t == target => Some(inbox),
            _ => None,
        }
    }) {
        return inbox;
    }
    let (tx, rx) = mpsc::unbounded();
    CURRENT.with(|c| *c.borrow_mut() = Some((target, tx)));
    Inbox { rx }
}

/// Routes events of a resumed job's window from the moment the worker
/// starts, before its loop runs: background.js hands over no event before
/// `start` returns, so none of them (the vault request the page made just as
/// the worker restarted, above all) is lost or answered as if no job ran.
pub fn preattach(target: Target) {
    let (tx, rx) = mpsc::unbounded();
    CURRENT.with(|c| *c.borrow_mut() = Some((target, tx)));
    PENDING.with(|p| *p.borrow_mut() = Some((target, Inbox { rx })));
}

pub fn detach() {
    CURRENT.with(|c| *c.borrow_mut() = None);
    PENDING.with(|p| *p.borrow_mut() = None);
}

/// The running job's window and tab, if a job runs.
pub fn current() -> Option<Target> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(t, _)| *t))
}

/// Pushes an event to the running job if it matches. Returns whether it did.
pub fn push(matches: impl Fn(Target) -> bool, event: JobEvent) -> bool {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some((t, tx)) if matches(*t) => tx.unbounded_send(event).is_ok(),
        _ => false,
    })
}

impl Inbox {
    /// The next event, or `None` when `timeout_ms` passes first.
    pub async fn next(&mut self, timeout_ms: u64) -> Option<JobEvent> {
        let ms = u32::try_from(timeout_ms).unwrap_or(u32::MAX).max(1);
        let timer = gloo::timers::future::TimeoutFuture::new(ms);
        match select(self.rx.next(), timer).await {
            Either::Left((ev, _)) => ev,
            Either::Right(_) => None,
        }
    }
}

/// Self-test: hands a window's first report to whoever waits for it, or
/// keeps it for the waiter that comes next (the report can arrive before
/// `chrome.windows.create` resolves).
pub fn deliver_self_test(window_id: i32, snapshot: Snapshot, incognito: bool) -> bool {
    let waiter = SELF_TEST.with(|w| w.borrow_mut().remove(&window_id));
    match waiter {
        Some(tx) => tx.send((snapshot, incognito)).is_ok(),
        None => {
            SELF_TEST_EARLY.with(|e| e.borrow_mut().insert(window_id, (snapshot, incognito)));
            false
        }
    }
}

/// The first report from a self-test window, or `None` after `timeout_ms`.
pub async fn self_test_report(window_id: i32, timeout_ms: u32) -> Option<(Snapshot, bool)> {
    if let Some(r) = SELF_TEST_EARLY.with(|e| e.borrow_mut().remove(&window_id)) {
        return Some(r);
    }
    let (tx, rx) = oneshot::channel();
    SELF_TEST.with(|w| w.borrow_mut().insert(window_id, tx));
    let timer = gloo::timers::future::TimeoutFuture::new(timeout_ms);
    let result = match select(rx, timer).await {
        Either::Left((Ok(r), _)) => Some(r),
        _ => None,
    };
    SELF_TEST.with(|w| w.borrow_mut().remove(&window_id));
    SELF_TEST_EARLY.with(|e| e.borrow_mut().remove(&window_id));
    result
}
