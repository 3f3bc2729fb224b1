//! The serving skeleton: TLS on the Microsoft hostnames, routing by Host, CSP.

mod common;

#[tokio::test]
async fn login_page_is_served_over_tls_with_strict_csp() {
    let t = common::start("serving").await;
    let c = common::client(&t.sim);
    let r = c
        .get("https://login.microsoftonline.com/")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .expect("csp")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(csp.contains("'nonce-"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let (_, body) = common::text(r).await;
    assert!(body.contains(r#"id="i0116""#));
    assert!(body.contains(r#"id="idSIButton9""#));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn security_info_without_session_redirects_to_sign_in() {
    let t = common::start("serving").await;
    let c = common::client(&t.sim);
    let r = c
        .get("https://mysignins.microsoft.com/security-info")
        .send()
        .await
        .expect("request");
    assert!(r.status().is_redirection());
    let loc = r.headers()["location"].to_str().expect("ascii");
    assert!(
        loc.starts_with("https://login.microsoftonline.com/"),
        "{loc}"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn certificates_are_reused_across_runs() {
    let t = common::start("reuse").await;
    let spki = t.sim.spki.clone();
    t.sim.shutdown().await;
    let again = entra_sim::Sim::start(entra_sim::SimConfig::new(&t.dir))
        .await
        .expect("restart");
    assert_eq!(again.spki, spki);
    again.shutdown().await;
}

#[tokio::test]
async fn ready_line_names_listener_spki_ca_and_rules() {
    let t = common::start("ready").await;
    let line = t.sim.ready_line();
    assert!(line.starts_with("{\"listen\":"), "{line}");
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(v["listen"], t.sim.addr.to_string());
    assert_eq!(v["spki"], t.sim.spki);
    let rules = v["hostResolverRules"].as_str().expect("rules");
    for h in entra_sim::tls::HOSTS {
        assert!(
            rules.contains(&format!("MAP {h} {}", t.sim.addr)),
            "{rules}"
        );
    }
    assert!(std::path::Path::new(v["ca"].as_str().expect("ca")).is_absolute());
    t.sim.shutdown().await;
}

/// The state file as the last save left it.
fn saved_state(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("state.json")).expect("state.json");
    serde_json::from_str(&text).expect("state.json is whole JSON")
}

fn saved_has_tap(dir: &std::path::Path, upn: &str, pass: &str) -> bool {
    saved_state(dir)["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["userPrincipalName"] == upn)
        .flat_map(|u| u["taps"].as_array().cloned().unwrap_or_default())
        .any(|t| t["pass"] == pass)
}

async fn create_tap(c: &reqwest::Client, upn: &str) -> String {
    let tap: serde_json::Value = c
        .post(format!(
            "https://login.microsoftonline.com/__sim/users/{upn}/taps"
        ))
        .json(&serde_json::json!({"isUsableOnce": true}))
        .send()
        .await
        .expect("create TAP")
        .json()
        .await
        .expect("TAP json");
    tap["pass"].as_str().expect("pass").to_string()
}

#[tokio::test]
async fn a_change_made_just_before_shutdown_survives_a_restart() {
    let t = common::start("flush").await;
    let c = common::client(&t.sim);
    // Changes in quick succession (Entra holds one TAP per user, so one user
    // each), the last right before shutdown: well inside the background
    // writer's debounce interval.
    let upns = [
        "admin@contoso.onmicrosoft.com",
        "adele.vance@contoso.com",
        "jonas.mueller@contoso.com",
    ];
    let mut passes = Vec::new();
    for upn in upns {
        passes.push((upn, create_tap(&c, upn).await));
    }
    drop(c);
    // Hold the state so its drop (which also flushes) cannot be what saves it:
    // this proves the shutdown itself writes the last changes.
    let held = t.sim.state.clone();
    t.sim.shutdown().await;
    for (upn, pass) in &passes {
        assert!(
            saved_has_tap(&t.dir, upn, pass),
            "{upn}'s TAP not in state.json"
        );
    }
    let again = entra_sim::Sim::start(entra_sim::SimConfig::new(&t.dir))
        .await
        .expect("restart");
    for (upn, pass) in &passes {
        let kept = again.state.read(|tn| {
            tn.user(upn)
                .is_some_and(|u| u.taps.iter().any(|tap| &tap.pass == pass))
        });
        assert!(
            kept,
            "{upn}'s TAP created before shutdown is back after restart"
        );
    }
    again.shutdown().await;
    drop(held);
}

#[tokio::test]
async fn changes_are_saved_in_the_background_without_shutdown() {
    let t = common::start("background").await;
    let c = common::client(&t.sim);
    let upn = "adele.vance@contoso.com";
    let pass = create_tap(&c, upn).await;
    // The writer saves within its interval (100 ms); allow a slow machine 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !saved_has_tap(&t.dir, upn, &pass) {
        assert!(
            std::time::Instant::now() < deadline,
            "state.json never got the new TAP"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.sim.shutdown().await;
}

#[tokio::test]
async fn timings_record_microsoft_requests_but_not_control_calls() {
    let t = common::start("timings").await;
    let c = common::client(&t.sim);
    let before = entra_sim::util::wall_ms();
    let r = c
        .get("https://login.microsoftonline.com/")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let url = format!("https://login.microsoftonline.com/__sim/timings?since={before}");
    let v: serde_json::Value = c
        .get(&url)
        .send()
        .await
        .expect("timings")
        .json()
        .await
        .expect("json");
    let intervals = v["intervals"].as_array().expect("intervals");
    // The sign-in page only: neither this control call nor the one before.
    assert_eq!(intervals.len(), 1, "{v}");
    let (start, end) = (
        intervals[0][0].as_f64().expect("start"),
        intervals[0][1].as_f64().expect("end"),
    );
    assert!(before <= start && start <= end, "{v}");
    assert_eq!(intervals[0][2], "GET login.microsoftonline.com/", "{v}");
    for bad in ["since=soon", "until=1", "since=NaN"] {
        let r = c
            .get(format!(
                "https://login.microsoftonline.com/__sim/timings?{bad}"
            ))
            .send()
            .await
            .expect("timings");
        assert_eq!(r.status(), 400, "{bad}");
    }
    t.sim.shutdown().await;
}
