//! Writes Show Logs entries ([`protocol::logbook::LogEntry`]).

use crate::queue::Running;
use chrome_api::storage::{self, Area};
use engine::Failure;
use protocol::actuator::Snapshot;
use protocol::logbook::{KEY, LogEntry, LogStep, MAX_ENTRIES, MAX_SCREENSHOTS, PageSummary};
use protocol::report::JobState;

pub async fn append(
    r: &Running,
    failure: &Option<Failure>,
    key_name: Option<&str>,
    last: Option<&Snapshot>,
    screenshot: Option<String>,
    state: JobState,
) {
    let p = &r.provision;
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
        error: failure.as_ref().map(Failure::to_job_error),
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
        // The page's structure is kept for failures (it explains them); a
        // success needs none.
        last_page: if state == JobState::Succeeded {
            None
        } else {
            last.map(PageSummary::of)
        },
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
    }
    if let Err(e) = storage::set(Area::Local, KEY, &logs).await {
        crate::console_warn(&format!("could not write the log: {e}"));
    }
}
