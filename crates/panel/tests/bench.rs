//! Benchmark (ignored by default; run it in release):
//!
//! ```sh
//! cargo test -p panel --release --test bench -- --ignored --nocapture
//! ```
//!
//! Prints the time to import 10,000 users from the simulator's Graph (all
//! pages, one transaction) and the API's latency under 50 concurrent
//! clients over real HTTP on loopback.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::sim::{connect, panel_for, seed_with_users, start_sim, temp_dir};

const CLIENTS: usize = 50;
const RUN: Duration = Duration::from_secs(5);
const BULK_USERS: u32 = 10_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test -p panel --release --test bench -- --ignored --nocapture"]
async fn import_time_and_api_latency_under_50_clients() {
    let dir = temp_dir("bench-seed");
    let sim = start_sim("bench", Some(seed_with_users(&dir, BULK_USERS))).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let p = panel_for(&sim, &url);
    let service = panel::app(p.state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    let owner = p.owner().await;
    assert_eq!(
        connect(&p, &sim, &owner).await.status,
        StatusCode::SEE_OTHER
    );

    let t = Instant::now();
    let s = p.call("POST", "/api/users/sync", &owner, None).await;
    let import = t.elapsed();
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let imported = s.json()["imported"].as_u64().unwrap();
    println!(
        "import: {imported} users from the simulator's Graph in {:.2} s",
        import.as_secs_f64()
    );

    let cookie = format!("panel_session={}", owner.cookie.clone().unwrap());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let deadline = Instant::now() + RUN;
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let (client, cookie, url) = (client.clone(), cookie.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0usize;
            while Instant::now() < deadline {
                // A mix of what the pages do: search a page of users, look
                // at one user, poll a session.
                let path = match n % 3 {
                    0 => format!("/api/users?q=bulk{:03}&limit=50", (i * 7 + n) % 1000),
                    1 => "/api/users/10000000-0000-4000-8000-000000000001".to_string(),
                    _ => "/api/session".to_string(),
                };
                let t = Instant::now();
                let r = client
                    .get(format!("{url}{path}"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{path}: {}", r.status());
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed());
                n += 1;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    println!(
        "api: {CLIENTS} clients, {} requests in {} s ({:.0}/s): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        RUN.as_secs(),
        all.len() as f64 / RUN.as_secs_f64(),
        percentile(&all, 0.50).as_secs_f64() * 1000.0,
        percentile(&all, 0.95).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        all.last().unwrap().as_secs_f64() * 1000.0,
    );
    sim.shutdown().await;
}
