//! The toolbar popup: is the extension ready, what is it doing now, how many
//! jobs wait, and a way to Show Logs.

use crate::chrome::{self, Event, Listener};
use crate::{dom, steps};
use chrome_api::storage::{self, Area};
use gloo::events::EventListener;
use protocol::panel::StatusReport;
use protocol::report::JobState;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, HtmlProgressElement};

/// Where the worker publishes its status (`chrome.storage.session`).
const STATUS_KEY: &str = "status";

/// What the popup shows about the queue, decided without a browser.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    /// `None` when nothing runs.
    pub running: Option<Running>,
    /// "No jobs waiting", "1 job waiting", "3 jobs waiting".
    pub queue: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub step: String,
    /// 0 to 100, whole percent.
    pub percent: u8,
    pub request_id: String,
    /// "Display Name <upn>" when the worker says whom the job is for.
    pub user: Option<String>,
}

pub fn job_view(s: &StatusReport) -> JobView {
    let queue = match s.queue_length {
        0 => "No jobs waiting".to_string(),
        1 => "1 job waiting".to_string(),
        n => format!("{n} jobs waiting"),
    };
    let running = s
        .job
        .as_ref()
        .filter(|j| s.busy && matches!(j.state, JobState::Running | JobState::Queued))
        .map(|j| Running {
            step: steps::wording(j.step.as_deref().unwrap_or("")),
            percent: (j.progress.clamp(0.0, 1.0) * 100.0).round() as u8,
            request_id: j.request_id.clone(),
            user: s.running_user.clone(),
        });
    JobView { running, queue }
}

/// Fills `popup.html`.
#[wasm_bindgen]
pub async fn popup_main() {
    dom::set_text(
        "version",
        &format!("Version {}", chrome_api::runtime::version()),
    );
    wire_show_logs();
    // Listen before the first read so no change falls between the two.
    Listener::new(Event::StorageChanged, |changes, area| {
        if let Some(v) = chrome::changed_value(&changes, &area, "session", STATUS_KEY) {
            render_status(chrome_api::from_js::<StatusReport>("chrome.storage.onChanged", v).ok());
        }
    })
    .forget();
    Listener::new(Event::RuntimeMessage, |message, _| {
        if chrome::message_type(&message).as_deref() == Some("statusChanged") {
            wasm_bindgen_futures::spawn_local(refresh_status());
        }
    })
    .forget();
    refresh_status().await;
    show_incognito().await;
}

async fn refresh_status() {
    match storage::get::<StatusReport>(Area::Session, STATUS_KEY).await {
        Ok(s) => render_status(s),
        Err(e) => dom::set_text("error", &format!("Cannot read the job status: {e}")),
    }
}

fn render_status(status: Option<StatusReport>) {
    let view = job_view(&status.unwrap_or(StatusReport {
        busy: false,
        queue_length: 0,
        job: None,
        running_user: None,
    }));
    dom::set_text("queue", &view.queue);
    match view.running {
        Some(r) => {
            dom::set_text("job-step", &r.step);
            let who = match &r.user {
                Some(u) => format!("For {u}"),
                None => format!("Request {}", r.request_id),
            };
            dom::set_text("job-request", &who);
            dom::set_text("job-percent", &format!("{} %", r.percent));
            if let Some(p) = dom::by_id::<HtmlProgressElement>("job-progress") {
                p.set_value(f64::from(r.percent) / 100.0);
                p.set_text_content(Some(&format!("{} %", r.percent)));
            }
            dom::set_hidden("job-running", false);
            dom::set_hidden("job-idle", true);
            dom::set_state("job", "running");
        }
        None => {
            dom::set_hidden("job-running", true);
            dom::set_hidden("job-idle", false);
            dom::set_state("job", "idle");
        }
    }
}

fn wire_show_logs() {
    if let Some(button) = dom::by_id::<HtmlElement>("show-logs") {
        EventListener::new(&button, "click", |_| {
            let url = chrome::url("logs.html");
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = chrome_api::tabs::create(&url).await {
                    dom::set_text("error", &e.to_string());
                }
            });
        })
        .forget();
    }
}

async fn show_incognito() {
    match chrome_api::extension::is_allowed_incognito_access().await {
        Ok(true) => {
            dom::set_text("status", "Ready");
            dom::set_state("status", "ok");
            dom::set_hidden("fix", true);
            dom::set_hidden("incognito-help", true);
        }
        Ok(false) => {
            dom::set_text("status", "Allow in Incognito is off");
            dom::set_state("status", "warn");
            dom::set_text(
                "incognito-help",
                "Passkeys are registered in a private window so no user's session leaks into another's. Turn on \"Allow in Incognito\" for this extension.",
            );
            dom::set_hidden("incognito-help", false);
            dom::set_hidden("fix", false);
            if let Some(button) = dom::by_id::<HtmlElement>("fix") {
                // The popup lives until it closes; the listener lives with it.
                EventListener::new(&button, "click", |_| {
                    let url = format!("chrome://extensions/?id={}", chrome_api::runtime::id());
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(e) = chrome_api::tabs::create(&url).await {
                            dom::set_text("error", &e.to_string());
                        }
                    });
                })
                .forget();
            }
        }
        Err(e) => {
            dom::set_text("status", "Cannot read the extension's permissions");
            dom::set_state("status", "error");
            dom::set_text("error", &e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::report::JobReport;

    fn report(state: JobState, step: &str, progress: f32) -> JobReport {
        JobReport {
            request_id: "req-7".into(),
            seq: 3,
            state,
            step: Some(step.into()),
            progress,
            at_ms: 0,
            result: None,
            error: None,
        }
    }

    #[test]
    fn idle_with_nothing_waiting() {
        let v = job_view(&StatusReport {
            busy: false,
            queue_length: 0,
            job: None,
            running_user: None,
        });
        assert_eq!(
            v,
            JobView {
                running: None,
                queue: "No jobs waiting".into()
            }
        );
    }

    #[test]
    fn running_job_in_words_and_percent() {
        let v = job_view(&StatusReport {
            busy: true,
            queue_length: 2,
            job: Some(report(JobState::Running, "signIn.accessPass", 0.16)),
            running_user: None,
        });
        assert_eq!(v.queue, "2 jobs waiting");
        let r = v.running.expect("running");
        assert_eq!(r.step, "Signing in with the Temporary Access Pass");
        assert_eq!(r.percent, 16);
        assert_eq!(r.request_id, "req-7");
    }

    #[test]
    fn progress_is_clamped() {
        let v = job_view(&StatusReport {
            busy: true,
            queue_length: 1,
            job: Some(report(JobState::Running, "open", 7.0)),
            running_user: None,
        });
        assert_eq!(v.queue, "1 job waiting");
        assert_eq!(v.running.expect("running").percent, 100);
    }

    #[test]
    fn a_finished_job_is_not_shown_as_running() {
        let v = job_view(&StatusReport {
            busy: false,
            queue_length: 0,
            job: Some(report(JobState::Succeeded, "confirm.listed", 1.0)),
            running_user: None,
        });
        assert_eq!(v.running, None);
    }
}
