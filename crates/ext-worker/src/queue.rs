//! The job queue, kept in memory for quick access and written through to
//! `chrome.storage.session` on every change, so a service worker that the
//! browser stops mid-job finds it again when it restarts.
//!
//! `chrome.storage.session` lives in memory and is readable only by the
//! extension's own pages and worker (not content scripts); the TAP and the
//! panel token of queued requests sit there until their job ends.

use chrome_api::storage::{self, Area};
use protocol::panel::Provision;
use protocol::report::JobReport;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

const KEY: &str = "queue";

/// The job being worked on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Running {
    pub provision: Provision,
    pub job: engine::Job,
    #[serde(default)]
    pub window_id: Option<i32>,
    #[serde(default)]
    pub tab_id: Option<i32>,
    /// Sequence number of the last report sent to the panel.
    #[serde(default)]
    pub seq: u32,
    /// Whether the vault already answered this job's `create`: it answers
    /// once per request.
    #[serde(default)]
    pub attested: bool,
    #[serde(default)]
    pub credential_id: Option<String>,
    /// Per transition, what the automation added (ms), for the log.
    #[serde(default)]
    pub overhead_ms: Vec<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueState {
    #[serde(default)]
    pub running: Option<Running>,
    #[serde(default)]
    pub waiting: Vec<Provision>,
    /// The last report of each recently finished request, for `status`.
    #[serde(default)]
    pub finished: Vec<JobReport>,
}

/// How many finished requests `status` remembers.
const FINISHED_KEPT: usize = 50;

thread_local! {
    static STATE: RefCell<QueueState> = RefCell::new(QueueState::default());
}

/// Loads the persisted queue. Called once when the worker starts, before
/// any event is handled (background.js awaits it).
pub async fn load() -> Result<(), chrome_api::ChromeError> {
    let state: QueueState = storage::get(Area::Session, KEY).await?.unwrap_or_default();
    STATE.with(|s| *s.borrow_mut() = state);
    Ok(())
}

/// Reads the state.
pub fn with<R>(f: impl FnOnce(&QueueState) -> R) -> R {
    STATE.with(|s| f(&s.borrow()))
}

/// Changes the state and persists it. The write is started at once; writes
/// reach storage in the order they were made.
pub fn update<R>(f: impl FnOnce(&mut QueueState) -> R) -> R {
    let (r, copy) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let r = f(&mut s);
        (r, s.clone())
    });
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = storage::set(Area::Session, KEY, &copy).await {
            crate::console_warn(&format!("could not persist the queue: {e}"));
        }
    });
    r
}

/// Remembers a finished request's last report.
pub fn remember_finished(state: &mut QueueState, report: JobReport) {
    state.finished.retain(|r| r.request_id != report.request_id);
    state.finished.push(report);
    if state.finished.len() > FINISHED_KEPT {
        let extra = state.finished.len() - FINISHED_KEPT;
        state.finished.drain(..extra);
    }
}
