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
    let body = r.text().await.expect("body");
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
