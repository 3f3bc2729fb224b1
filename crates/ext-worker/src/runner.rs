//! Runs the queue: one job at a time, each in its own incognito window.
//!
//! A job's loop awaits the next event of its window (a settled snapshot, the
//! window closing, a cancel, the vault's answer) or the deadline the engine
//! asked for, whichever comes first, and hands each to
//! [`engine::job::decide`]. The state is written through to session storage
//! after every decision, so a restarted worker resumes it ([`kick`] on start).

use crate::events::{self, Inbox, JobEvent, Target};
use crate::queue::{self, Running};
use crate::{logbook, panel_api, settings};
use chrome_api::{tabs, windows};
use engine::Failure;
use engine::job::{Command, Decision, Job, START_URL, Step, Timeouts, TypedValue, decide};
use protocol::actuator::{Primitive, RunResult, Snapshot, WorkerCommand};
use protocol::panel::{Mode, Provision};
use protocol::report::{JobReport, JobState, ProvisionedKey};
use std::cell::Cell;

/// Microsoft's cookie domains, cleared before every job so no user's session
/// leaks into the next one's.
const MICROSOFT_COOKIE_DOMAINS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "microsoftonline.com",
    "microsoft.com",
    "mysignins.microsoft.com",
    "account.activedirectory.windowsazure.com",
    "windowsazure.com",
    "live.com",
];

/// How often a waiting job touches an extension API so the browser does not
/// stop the worker (it stops it after 30 s without extension events).
const KEEP_ALIVE_MS: u64 = 20_000;

/// An alarm that fires while a job runs. The browser may stop the worker at
/// any moment, keep-alive or not; when the job's page is quiet nothing else
/// would wake it, and the job's deadlines would never be checked. The
/// alarm's event starts the worker again, and `start` resumes the job.
pub const JOB_ALARM: &str = "job";
/// Chrome's shortest alarm period, in minutes.
const JOB_ALARM_PERIOD_MIN: f64 = 0.5;

thread_local! {
    static LOOP_ACTIVE: Cell<bool> = const { Cell::new(false) };
}

pub fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

/// Starts the queue loop unless it runs already.
pub fn kick() {
    if LOOP_ACTIVE.with(|a| a.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(run_queue());
}

/// The queue loop. It clears `LOOP_ACTIVE` in the same synchronous step in
/// which it finds the queue empty: a request accepted while the loop is
/// still finishing (awaiting anything) would otherwise see the flag set,
/// not start a loop, and wait until some later request came.
async fn run_queue() {
    // Earlier jobs' final reports go out alongside, not before, the next
    // job: a hanging panel must not hold the queue up.
    wasm_bindgen_futures::spawn_local(panel_api::flush_outbox());
    loop {
        let next = queue::update(|s| {
            if let Some(r) = &s.running {
                return Some((r.clone(), true));
            }
            if s.waiting.is_empty() {
                return None;
            }
            let p = s.waiting.remove(0);
            let r = new_running(p);
            s.running = Some(r.clone());
            Some((r, false))
        });
        let Some((running, resumed)) = next else {
            LOOP_ACTIVE.with(|a| a.set(false));
            break;
        };
        run_one(running, resumed).await;
    }
    publish_status().await;
}

fn new_running(p: Provision) -> Running {
    let now = now_ms();
    let job = Job::new(
        &p.request_id,
        p.mode,
        &p.user.upn,
        p.tap.is_some(),
        "",
        Timeouts::default(),
        now,
    );
    Running {
        provision: p,
        job,
        window_id: None,
        tab_id: None,
        seq: 0,
        attested: false,
        credential_id: None,
        overhead_ms: Vec::new(),
    }
}

/// Why a job ended.
struct Ending {
    state: JobState,
    failure: Option<Failure>,
    key_name: Option<String>,
    last: Option<Snapshot>,
}

async fn run_one(mut r: Running, resumed: bool) {
    let ending = match drive(&mut r, resumed).await {
        Ok(e) | Err(e) => e,
    };
    finish(r, ending).await;
}

fn timeouts_from(s: &protocol::settings::Settings) -> Timeouts {
    let clamp = |v: u32| {
        u64::from(v.clamp(
            *protocol::settings::TIMEOUT_RANGE_S.start(),
            *protocol::settings::TIMEOUT_RANGE_S.end(),
        )) * 1000
    };
    Timeouts {
        step_ms: clamp(s.step_timeout_s),
        register_ms: clamp(s.register_timeout_s),
        tap_propagation_ms: clamp(s.tap_propagation_s),
        ..Timeouts::default()
    }
}

fn key_name(p: &Provision, template: Option<&str>) -> String {
    if let Some(name) = &p.key_name {
        return name.clone();
    }
    let mut random = [0u8; 6];
    for b in &mut random {
        // Not a secret: a suffix that tells two keys of a day apart.
        *b = (js_sys::Math::random() * 36.0) as u8;
    }
    let parts = engine::naming::NameParts {
        object_id: &p.user.object_id,
        upn: &p.user.upn,
        display_name: &p.user.display_name,
        days_since_epoch: (now_ms() / 86_400_000) as i64,
        random,
    };
    let template = template.unwrap_or(engine::naming::DEFAULT_TEMPLATE);
    engine::naming::render(template, &parts)
        .or_else(|_| engine::naming::render(engine::naming::DEFAULT_TEMPLATE, &parts))
        .unwrap_or_else(|_| format!("IDM-{}", p.request_id))
}

fn failed(f: Failure, last: Option<Snapshot>) -> Ending {
    let state = if matches!(f, Failure::Cancelled { .. }) {
        JobState::Cancelled
    } else {
        JobState::Failed
    };
    Ending {
        state,
        failure: Some(f),
        key_name: None,
        last,
    }
}

/// Opens (or finds again) the job's window and runs the engine until the job
/// ends. `Err` carries an early ending (the window never opened).
async fn drive(r: &mut Running, resumed: bool) -> Result<Ending, Ending> {
    let settings = settings::load().await.unwrap_or_default();
    let mut last: Option<Snapshot> = None;

    let target = match (resumed, r.window_id, r.tab_id) {
        (true, Some(w), Some(t)) if windows::exists(w).await => Target {
            window_id: w,
            tab_id: t,
        },
        (true, Some(_), _) => {
            // The window went away while the worker was stopped: the job
            // closes its window only after its ending is stored, so someone
            // else closed it. `start` routed that window's events here;
            // nothing more will come from it.
            events::detach();
            return Err(failed(
                Failure::Cancelled {
                    how: "the job's window was closed".into(),
                },
                None,
            ));
        }
        _ => {
            r.job = Job::new(
                &r.provision.request_id,
                r.provision.mode,
                &r.provision.user.upn,
                r.provision.tap.is_some(),
                &key_name(&r.provision, settings.key_name_template.as_deref()),
                timeouts_from(&settings),
                now_ms(),
            );
            r.job.verify_sign_in = r.provision.panel.assertion_url.is_some();
            let visible = r.provision.visible || settings.show_window;
            // Manual mode is the administrator's own session: their language.
            let english = settings.ask_for_english && r.provision.mode == Mode::Automatic;
            let target = open_window_bounded(visible, english)
                .await
                .map_err(|f| failed(f, None))?;
            r.window_id = Some(target.window_id);
            r.tab_id = Some(target.tab_id);
            persist(r);
            target
        }
    };

    let mut inbox: Inbox = events::attach(target);
    if let Err(e) = chrome_api::alarms::periodic(JOB_ALARM, JOB_ALARM_PERIOD_MIN).await {
        crate::console_warn(&format!("no wake-up alarm for the job: {e}"));
    }
    if resumed {
        // Ask for a fresh picture of the page; the answer arrives as an event
        // through the normal snapshot path when the page settles.
        if let Ok(s) =
            tabs::send_message::<_, Snapshot>(target.tab_id, &WorkerCommand::Snapshot).await
        {
            last = Some(s);
        }
    } else {
        send_report(r, JobState::Running);
    }

    let mut until = r.job.deadline_ms();
    let mut alive_at = now_ms();
    let mut reported_step = r.job.step;
    // A resumed job decides on the fresh snapshot at once: the page may be
    // waiting for a click and send nothing new.
    let mut decide_now = last.is_some();
    let ending = loop {
        let now = now_ms();
        if now.saturating_sub(alive_at) >= KEEP_ALIVE_MS {
            chrome_api::runtime_ext::keep_alive().await;
            alive_at = now;
        }
        let wait = until.saturating_sub(now).min(KEEP_ALIVE_MS);
        let event = if std::mem::take(&mut decide_now) {
            None
        } else {
            match inbox.next(wait).await {
                None if now_ms() < until => continue, // keep-alive tick
                e => e,
            }
        };
        match event {
            Some(JobEvent::Snapshot(s)) => {
                if settings.record_snapshots {
                    record_snapshot(&s, r.job.step).await;
                }
                last = Some(s);
            }
            Some(JobEvent::WindowClosed) => {
                break failed(
                    Failure::Cancelled {
                        how: "the job's window was closed".into(),
                    },
                    last,
                );
            }
            Some(JobEvent::Cancel) => {
                break failed(
                    Failure::Cancelled {
                        how: "cancelled from the panel".into(),
                    },
                    last,
                );
            }
            Some(JobEvent::VaultFailed(failure)) => break failed(failure, last),
            Some(JobEvent::Asserted) => {
                r.job.asserted();
                persist(r);
                continue;
            }
            Some(JobEvent::CeremonyStarted) => {
                r.job.registered(now_ms());
                persist(r);
                continue;
            }
            Some(JobEvent::Attested { credential_id } | JobEvent::Observed { credential_id }) => {
                r.credential_id = Some(credential_id);
                r.job.registered(now_ms());
                persist(r);
                if r.job.step != reported_step {
                    reported_step = r.job.step;
                    send_report(r, JobState::Running);
                }
                continue;
            }
            None => {}
        }
        let now = now_ms();
        let Some(snap) = &last else {
            if now >= r.job.deadline_ms() {
                // Say what the tab shows instead, when the browser tells.
                let shows = match tabs::get(target.tab_id).await {
                    Ok(t) => format!(
                        "the tab is {} at {}",
                        t.status.unwrap_or_else(|| "in an unknown state".into()),
                        t.url
                            .or(t.pending_url)
                            .unwrap_or_else(|| "a page the extension may not read".into())
                    ),
                    Err(e) => format!("the tab is gone ({e})"),
                };
                break failed(
                    Failure::StepTimeout {
                        step: r.job.step.name().into(),
                        timeout_s: r.job.timeouts.step_ms / 1000,
                        summary: format!("no Microsoft page reported; {shows}"),
                    },
                    None,
                );
            }
            until = r.job.deadline_ms();
            continue;
        };
        let decision = decide(&mut r.job, snap, now);
        match decision {
            Decision::Act { commands } => {
                let ran = execute(target.tab_id, &commands, r.provision.tap.as_deref()).await;
                if let Some(idle) = ran.idle_ms {
                    r.overhead_ms.push(idle);
                }
                if ran.refused {
                    r.job.action_refused();
                }
                until = r.job.deadline_ms();
            }
            Decision::Wait { until_ms } => until = until_ms,
            Decision::Done { key_name } => {
                break Ending {
                    state: JobState::Succeeded,
                    failure: None,
                    key_name: Some(key_name),
                    last,
                };
            }
            Decision::Fail { failure } => break failed(failure, last),
        }
        persist(r);
        if r.job.step != reported_step {
            reported_step = r.job.step;
            send_report(r, JobState::Running);
        }
    };
    events::detach();
    Ok(ending)
}

/// How long the private window's first, blank page may take to load before
/// the English-page rules are added anyway.
const BLANK_LOAD_TIMEOUT_MS: u32 = 5_000;

/// How long opening the private window (cookie clearing included) may take.
const OPEN_WINDOW_TIMEOUT_MS: u32 = 15_000;

/// [`open_window`] under a deadline, tried twice: right after the previous
/// job's private window closed, the browser tears the incognito profile down
/// and a new window can get stuck in between; a second try starts clean.
async fn open_window_bounded(visible: bool, english: bool) -> Result<Target, Failure> {
    for attempt in 1..=2 {
        let timer = gloo::timers::future::TimeoutFuture::new(OPEN_WINDOW_TIMEOUT_MS);
        let open = Box::pin(open_window(visible, english));
        match futures::future::select(open, timer).await {
            futures::future::Either::Left((result, _)) => return result,
            futures::future::Either::Right(_) => crate::console_warn(&format!(
                "opening the private window took over {OPEN_WINDOW_TIMEOUT_MS} ms (attempt {attempt})"
            )),
        }
    }
    Err(Failure::StepTimeout {
        step: Step::Open.name().into(),
        timeout_s: u64::from(OPEN_WINDOW_TIMEOUT_MS / 1000) * 2,
        summary: "the browser did not open a private window".into(),
    })
}

/// Keeps a snapshot for support (Options → record snapshots), labelled with
/// the page the engine recognises and the step the job was in.
async fn record_snapshot(s: &Snapshot, step: Step) {
    use protocol::settings::{MAX_RECORDED_SNAPSHOTS, SNAPSHOTS_KEY};
    let page = engine::page::recognise(&engine::view::View::new(s)).kind();
    let area = chrome_api::storage::Area::Local;
    let mut all: Vec<serde_json::Value> = chrome_api::storage::get(area, SNAPSHOTS_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    all.push(serde_json::json!({ "page": page, "step": step.name(), "snapshot": s }));
    if all.len() > MAX_RECORDED_SNAPSHOTS {
        let extra = all.len() - MAX_RECORDED_SNAPSHOTS;
        all.drain(..extra);
    }
    let _ = chrome_api::storage::set(area, SNAPSHOTS_KEY, &all).await;
}

/// Removes Microsoft's cookies from every incognito store.
async fn clear_incognito_cookies() -> Result<(), chrome_api::ChromeError> {
    let stores = chrome_api::cookies::stores().await?;
    // "0" is the regular profile's store; every other one is incognito.
    for store in stores.iter().filter(|s| s.id != "0") {
        for domain in MICROSOFT_COOKIE_DOMAINS {
            chrome_api::cookies::clear_domain(&store.id, domain).await?;
        }
    }
    Ok(())
}

/// Clears Microsoft's cookies in the incognito store, then opens the job's
/// incognito window on Security info.
///
/// With `english`, the window opens on `about:blank`, the English-page
/// rules are added for its tab ([`crate::english`]), and only then does the
/// tab go to Security info: its first Microsoft request already carries the
/// hint.
///
/// The incognito store exists only while a private window is open; when none
/// is, the next private window starts with no cookies at all. When one is
/// (another job's leftover, or the administrator's own), its Microsoft
/// cookies go before our window makes its first request.
async fn open_window(visible: bool, english: bool) -> Result<Target, Failure> {
    clear_incognito_cookies()
        .await
        .map_err(|e| Failure::ServerError {
            detail: format!("could not clear Microsoft cookies: {e}"),
        })?;
    let window = windows::create(&windows::CreateData {
        url: if english { "about:blank" } else { START_URL }.into(),
        incognito: true,
        focused: visible,
        state: if visible { None } else { Some("minimized") },
    })
    .await
    .map_err(|e| Failure::ServerError {
        detail: format!("could not open an incognito window: {e}"),
    })?;
    let tab_id = window
        .tabs
        .first()
        .and_then(|t| t.id)
        .ok_or_else(|| Failure::ServerError {
            detail: "the incognito window has no tab".into(),
        })?;
    if english {
        // Rules that modify headers, added while the new tab's first
        // (about:blank) load is still under way, can leave the navigation
        // that follows stuck (seen on Chromium 14x: the tab stays
        // "unloaded"). Wait for about:blank to finish first.
        match tabs::loaded(tab_id, BLANK_LOAD_TIMEOUT_MS).await {
            Ok(true) => {}
            Ok(false) => crate::console_warn(&format!(
                "the private window's blank page did not finish loading within {BLANK_LOAD_TIMEOUT_MS} ms"
            )),
            Err(e) => crate::console_warn(&format!("the private window's tab: {e}")),
        }
        crate::english::ask_for(tab_id).await;
        tabs::navigate(tab_id, START_URL)
            .await
            .map_err(|e| Failure::ServerError {
                detail: format!("could not open Security info in the private window: {e}"),
            })?;
    }
    Ok(Target {
        window_id: window.id,
        tab_id,
    })
}

/// What came of carrying out the engine's commands.
#[derive(Default)]
struct Ran {
    /// The page's idle time before the commands (the automation's overhead).
    idle_ms: Option<u32>,
    /// The actuator did not carry out one of them.
    refused: bool,
}

impl Ran {
    fn and(self, next: Ran) -> Ran {
        Ran {
            idle_ms: self.idle_ms.or(next.idle_ms),
            refused: self.refused || next.refused,
        }
    }
}

/// Carries out the engine's commands. Failures are not fatal: the next
/// snapshot shows what happened and the engine decides again (sooner when
/// the actuator refused a command).
async fn execute(tab_id: i32, commands: &[Command], tap: Option<&str>) -> Ran {
    let mut ran = Ran::default();
    let mut batch: Vec<Primitive> = Vec::new();
    for c in commands {
        match c {
            Command::Click { handle } => batch.push(Primitive::Click { handle: *handle }),
            Command::Fill { handle, value } => {
                let value = match value {
                    TypedValue::Text(t) => t.clone(),
                    TypedValue::AccessPass => tap.unwrap_or_default().to_string(),
                };
                batch.push(Primitive::Fill {
                    handle: *handle,
                    value,
                });
            }
            Command::ClearCookies => {
                ran = ran.and(run_batch(tab_id, std::mem::take(&mut batch)).await);
                if let Err(e) = clear_incognito_cookies().await {
                    crate::console_warn(&format!("clearing cookies failed: {e}"));
                }
            }
            Command::Navigate { url } => {
                ran = ran.and(run_batch(tab_id, std::mem::take(&mut batch)).await);
                if let Err(e) = tabs::navigate(tab_id, url).await {
                    crate::console_warn(&format!("navigate failed: {e}"));
                }
            }
        }
    }
    ran.and(run_batch(tab_id, batch).await)
}

async fn run_batch(tab_id: i32, commands: Vec<Primitive>) -> Ran {
    if commands.is_empty() {
        return Ran::default();
    }
    let n = commands.len();
    match tabs::send_message::<_, RunResult>(tab_id, &WorkerCommand::Run { commands }).await {
        Ok(r) => {
            let refused = r.outcomes.len() != n
                || r.outcomes
                    .iter()
                    .any(|o| *o != protocol::actuator::Outcome::Ok);
            if refused {
                crate::console_warn(&format!("actuator: {:?}", r.outcomes));
            }
            Ran {
                idle_ms: Some(r.idle_ms.clamp(0.0, f64::from(u32::MAX)) as u32),
                refused,
            }
        }
        Err(e) => {
            // The page is navigating away or the tab went: the next
            // snapshot (or the window event) tells which.
            crate::console_warn(&format!("actuator unreachable: {e}"));
            Ran {
                idle_ms: None,
                refused: true,
            }
        }
    }
}

fn persist(r: &Running) {
    let copy = r.clone();
    queue::update(move |s| {
        if s.running
            .as_ref()
            .is_some_and(|x| x.provision.request_id == copy.provision.request_id)
        {
            s.running = Some(copy);
        }
    });
}

fn report_of(r: &Running, state: JobState) -> JobReport {
    JobReport {
        request_id: r.provision.request_id.clone(),
        seq: r.seq,
        state,
        step: Some(r.job.step.name().into()),
        progress: if state == JobState::Succeeded {
            1.0
        } else {
            r.job.step.progress()
        },
        at_ms: now_ms(),
        result: None,
        error: None,
    }
}

/// Reports progress without waiting for the panel or the popup: the job
/// goes on with the page while the report travels.
fn send_report(r: &mut Running, state: JobState) {
    r.seq += 1;
    let report = report_of(r, state);
    persist(r);
    wasm_bindgen_futures::spawn_local(publish_status());
    panel_api::report_later(&r.provision.panel, report);
}

/// Ends a job: screenshot, log entry, final report kept, state cleared,
/// window closed, report sent. The order matters when the browser stops the
/// worker half-way: the final report is stored before the job's state goes,
/// and the window closes only after, so a restarted worker never mistakes
/// its own closing for the administrator's.
async fn finish(mut r: Running, ending: Ending) {
    let now = now_ms();
    r.job.finish(now);
    let _ = chrome_api::alarms::clear(JOB_ALARM).await;
    if let Some(t) = r.tab_id {
        crate::english::stop_for(t).await;
    }
    let mut screenshot = None;
    if let Some(w) = r.window_id
        && ending.state != JobState::Succeeded
        && chrome_api::permissions::has_all_urls().await
        && windows::exists(w).await
    {
        if let Err(e) = windows::restore(w).await {
            crate::console_warn(&format!(
                "could not restore the window for a screenshot: {e}"
            ));
        }
        screenshot = tabs::capture_visible(w).await.ok();
    }
    r.seq += 1;
    let mut report = report_of(&r, ending.state);
    if let Some(name) = &ending.key_name {
        report.result = Some(ProvisionedKey {
            credential_id: r.credential_id.clone().unwrap_or_default(),
            key_name: name.clone(),
            aaguid: None,
            sign_in_verified: r.job.assertion_done,
        });
    }
    report.error = ending
        .failure
        .as_ref()
        .map(|f| logbook::job_error(f, r.provision.tap.as_deref()));
    logbook::append(
        &r,
        r.provision.tap.as_deref(),
        &ending.failure,
        ending.key_name.as_deref(),
        ending.last.as_ref(),
        screenshot,
        ending.state,
    )
    .await;
    panel_api::keep_final(&r.provision.panel, report.clone()).await;
    let id = r.provision.request_id.clone();
    queue::update(|s| {
        // A cancelled queued request never was the running one.
        if s.running
            .as_ref()
            .is_some_and(|x| x.provision.request_id == id)
        {
            s.running = None;
        }
        queue::remember_finished(s, report);
    });
    // The final report travels in the background, after the progress
    // reports (so the panel sees them in order): it is in the outbox
    // already, and a slow or hanging panel must not hold the next job up.
    wasm_bindgen_futures::spawn_local(async {
        panel_api::progress_sent().await;
        panel_api::flush_outbox().await;
    });
    let close = async {
        if let Some(w) = r.window_id {
            let _ = windows::remove(w).await;
        }
    };
    futures::join!(close, publish_status());
}

/// Marks a queued request cancelled without running it.
pub async fn cancel_waiting(p: Provision) {
    let r = new_running(p);
    let ending = failed(
        Failure::Cancelled {
            how: "cancelled from the panel before it started".into(),
        },
        None,
    );
    finish(r, ending).await;
}

/// Publishes a secret-free status for the popup (session storage + a
/// broadcast to open extension pages).
pub async fn publish_status() {
    let status = crate::status_report(None);
    let _ = chrome_api::storage::set(chrome_api::storage::Area::Session, "status", &status).await;
    chrome_api::runtime_ext::broadcast(&serde_json::json!({"type": "statusChanged"})).await;
}

/// The step's name for a job that has not started (for status answers).
pub fn queued_step() -> &'static str {
    Step::Open.name()
}
