//! Shared test harness: start a simulator in-process and build an HTTPS
//! client that resolves the Microsoft hostnames to it and trusts its CA.

#![allow(dead_code)]

use entra_sim::{Sim, SimConfig, SimHandle};

pub struct TestSim {
    pub sim: SimHandle,
    pub dir: std::path::PathBuf,
}

pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "entra-sim-test-{tag}-{}-{}",
        std::process::id(),
        entra_sim::util::random_hex(4)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

pub async fn start(tag: &str) -> TestSim {
    let dir = temp_dir(tag);
    let sim = Sim::start(SimConfig::new(&dir)).await.expect("sim starts");
    TestSim { sim, dir }
}

pub fn client(sim: &SimHandle) -> reqwest::Client {
    builder(sim).build().expect("client")
}

pub fn builder(sim: &SimHandle) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(sim.ca_pem.as_bytes()).expect("ca pem");
    let mut b = reqwest::Client::builder()
        .tls_certs_only([ca])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none());
    for h in entra_sim::tls::HOSTS {
        b = b.resolve(h, sim.addr);
    }
    b
}
