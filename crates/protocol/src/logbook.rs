//! The Show Logs history, as stored in `chrome.storage.local` under [`KEY`]:
//! written by the service worker when a job ends, read by the logs page.
//! Holds no TAP, token or key material.

use crate::panel::Mode;
use crate::report::{JobError, JobState};
use serde::{Deserialize, Serialize};

pub const KEY: &str = "logs";
/// Oldest entries are dropped past this many.
pub const MAX_ENTRIES: usize = 1000;
/// Screenshots are kept on this many newest entries only (they are large).
pub const MAX_SCREENSHOTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub request_id: String,
    pub upn: String,
    pub display_name: String,
    pub mode: Mode,
    pub started_ms: u64,
    pub ended_ms: u64,
    pub state: JobState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    #[serde(default)]
    pub steps: Vec<LogStep>,
    /// What the page showed last: its visible structure, standing in for a
    /// screenshot when none could be taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_page: Option<PageSummary>,
    /// The last snapshot of a job that did not succeed, in the engine's
    /// fixture format: Show Logs exports it so an unknown page becomes a
    /// regression test. Structure only (snapshots carry no input values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_snapshot: Option<PageSnapshot>,
    /// Per page transition, the milliseconds the automation added between
    /// the page being ready and acting on it (see
    /// [`crate::actuator::RunResult::idle_ms`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overhead_ms: Vec<u32>,
    /// How many page views the job passed through (see
    /// `engine::job::Job::views`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub views: u32,
    /// PNG data URL, when the optional permission was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStep {
    pub step: String,
    pub started_ms: u64,
    pub ended_ms: u64,
    /// The page seen when the step began.
    pub page: String,
}

/// One page as `crates/engine/tests/fixtures/<case>/<page>.json` holds it:
/// the page kind the engine recognised (`unknown` when none), the job's
/// step, and the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageSnapshot {
    pub page: String,
    pub step: String,
    pub snapshot: crate::actuator::Snapshot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageSummary {
    pub url: String,
    pub title: String,
    /// One line per visible element: `tag#id[name] "text"`.
    pub elements: Vec<String>,
}

impl PageSummary {
    pub fn of(s: &crate::actuator::Snapshot) -> Self {
        let elements = s
            .elements
            .iter()
            .filter(|e| e.visible)
            .take(60)
            .map(|e| {
                let mut line = e.tag.clone();
                if let Some(id) = &e.id {
                    line.push('#');
                    line.push_str(id);
                }
                if let Some(n) = &e.name {
                    line.push_str(&format!("[name={n}]"));
                }
                if let Some(r) = &e.role {
                    line.push_str(&format!("[role={r}]"));
                }
                if !e.text.is_empty() {
                    let t: String = e.text.chars().take(80).collect();
                    line.push_str(&format!(" \"{t}\""));
                }
                line
            })
            .collect();
        PageSummary {
            url: s.url.clone(),
            title: s.title.clone(),
            elements,
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
