//! Writes Show Logs entries ([`protocol::logbook::LogEntry`]).

use crate::queue::Running;
use chrome_api::storage::{self, Area};
use engine::Failure;
use protocol::actuator::Snapshot;
use protocol::logbook::{
    KEY, LogEntry, LogStep, MAX_ENTRIES, MAX_SCREENSHOTS, PageSnapshot, PageSummary,
};
use protocol::report::JobState;

/// Page snapshots are kept on this many newest entries only (a few kB to a
/// few dozen kB each; `chrome.storage.local` holds 10 MB).
const MAX_PAGE_SNAPSHOTS: usize = 50;

/// Stands in for a secret found in a snapshot.
const REDACTED: &str = "[redacted]";

/// A copy of `s` with every occurrence of `secret` in any of its strings
/// replaced. Snapshots carry no input values, but a page could still show
/// the TAP as text (an error message quoting it, a heading), and the
/// unknown-page error quotes the page's text: it never reaches the log, an
/// exported file or the panel's report. `None` when the value no longer
/// parses once redacted: the caller drops it, never keeps the original.
fn redacted<T>(s: &T, secret: Option<&str>) -> Option<T>
where
    T: Clone + serde::Serialize + serde::de::DeserializeOwned,
{
    let Some(secret) = secret.filter(|x| !x.is_empty()) else {
        return Some(s.clone());
    };
    fn walk(v: &mut serde_json::Value, secret: &str) {
        match v {
            serde_json::Value::String(t) if t.contains(secret) => {
                *t = t.replace(secret, REDACTED);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, secret)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, secret)),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(s).ok()?;
    // Keys are field names, never page text.
    walk(&mut v, secret);
    serde_json::from_value(v).ok()
}

/// The job's error as reported and logged, with the TAP redacted from its
/// words (see [`redacted`]).
pub fn job_error(failure: &Failure, tap: Option<&str>) -> protocol::report::JobError {
    let e = failure.to_job_error();
    redacted(&e, tap).unwrap_or_else(|| protocol::report::JobError {
        code: e.code,
        message: REDACTED.into(),
        hint: None,
    })
}

pub async fn append(
    r: &Running,
    tap: Option<&str>,
    failure: &Option<Failure>,
    key_name: Option<&str>,
    last: Option<&Snapshot>,
    screenshot: Option<String>,
    state: JobState,
) {
    let p = &r.provision;
    // The page's structure is kept for failures (it explains them); a
    // success needs none.
    let last = last
        .filter(|_| state != JobState::Succeeded)
        .and_then(|s| redacted(s, tap));
    let page_snapshot = last.as_ref().map(|s| PageSnapshot {
        page: engine::page::recognise(&engine::view::View::new(s))
            .kind()
            .to_string(),
        step: r.job.step.name().to_string(),
        snapshot: s.clone(),
    });
    let entry = LogEntry {
        request_id: p.request_id.clone(),
        upn: p.user.upn.clone(),
        display_name: p.user.display_name.clone(),
        mode: p.mode,
        started_ms: r.job.started_ms,
        ended_ms: crate::runner::now_ms(),
        state,
        key_name: key_name.map(str::to_string),
        credential_id: r.credential_id.clone(),
        error: failure.as_ref().map(|f| job_error(f, tap)),
        steps: r
            .job
            .timeline
            .iter()
            .map(|s| LogStep {
                step: s.step.clone(),
                started_ms: s.started_ms,
                ended_ms: s.ended_ms.unwrap_or(s.started_ms),
                page: s.page.clone(),
            })
            .collect(),
        last_page: last.as_ref().map(PageSummary::of),
        page_snapshot,
        overhead_ms: r.overhead_ms.clone(),
        views: r.job.views,
        screenshot,
    };
    let mut logs: Vec<LogEntry> = storage::get(Area::Local, KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    // A worker stopped half-way through ending a job ends it again when it
    // resumes: the second entry replaces the first, never doubles it.
    logs.retain(|e| e.request_id != entry.request_id);
    logs.push(entry);
    if logs.len() > MAX_ENTRIES {
        let extra = logs.len() - MAX_ENTRIES;
        logs.drain(..extra);
    }
    let n = logs.len();
    for (i, e) in logs.iter_mut().enumerate() {
        if i + MAX_SCREENSHOTS < n {
            e.screenshot = None;
        }
        if i + MAX_PAGE_SNAPSHOTS < n {
            e.page_snapshot = None;
        }
    }
    if let Err(e) = storage::set(Area::Local, KEY, &logs).await {
        crate::console_warn(&format!("could not write the log: {e}"));
    }
}
