//! Futures that complete when an actuator reports from a given window.
//!
//! The report can arrive before `chrome.windows.create` has even resolved, so
//! a report nobody waits for yet is kept (one per window) for the waiter that
//! comes next.

use futures::channel::oneshot;
use futures::future::{Either, select};
use protocol::actuator::Snapshot;
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Report {
    pub snapshot: Snapshot,
    pub incognito: bool,
}

thread_local! {
    static WAITING: RefCell<HashMap<i32, oneshot::Sender<Report>>> = RefCell::new(HashMap::new());
    static EARLY: RefCell<HashMap<i32, Report>> = RefCell::new(HashMap::new());
}

/// Hands a report to whoever waits for this window, or keeps it.
pub fn deliver(window_id: i32, report: Report) {
    let waiter = WAITING.with(|w| w.borrow_mut().remove(&window_id));
    match waiter {
        Some(tx) => {
            // The waiter may have timed out and gone: nothing to do then.
            let _ = tx.send(report);
        }
        None => EARLY.with(|e| {
            e.borrow_mut().insert(window_id, report);
        }),
    }
}

/// The first report from `window_id`, or `None` after `timeout_ms`.
pub async fn first_snapshot(window_id: i32, timeout_ms: u32) -> Option<Report> {
    if let Some(r) = EARLY.with(|e| e.borrow_mut().remove(&window_id)) {
        return Some(r);
    }
    let (tx, rx) = oneshot::channel();
    WAITING.with(|w| w.borrow_mut().insert(window_id, tx));
    let timeout = gloo::timers::future::TimeoutFuture::new(timeout_ms);
    let result = match select(rx, timeout).await {
        Either::Left((Ok(report), _)) => Some(report),
        _ => None,
    };
    WAITING.with(|w| w.borrow_mut().remove(&window_id));
    EARLY.with(|e| e.borrow_mut().remove(&window_id));
    result
}
