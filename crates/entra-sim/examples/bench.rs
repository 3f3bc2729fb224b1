//! Page latency of the simulator under concurrent sign-ins.
//!
//! Starts a simulator in-process (loopback, a temporary state directory, the
//! demo seed plus one user per flow), then runs `--flows` concurrent browsers,
//! each doing `--iterations` full sign-ins: Security info → authorize →
//! username → TAP → "Stay signed in?" → form_post back to My Sign-Ins →
//! the Security info page. Every HTTPS request of those pages is timed (a
//! fresh client per sign-in, so each starts with a TLS handshake, as a new
//! incognito window does). Prints the latency percentiles and the process's
//! peak RSS (`VmHWM`; simulator and clients share the process). Figures only:
//! it never fails because a machine is slow.
//!
//! `cargo run -p entra-sim --release --example bench -- [--flows 50] [--iterations 5] [--latency-ms 0]`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use entra_sim::{Sim, SimConfig};
use serde_json::{Value, json};

struct Args {
    flows: usize,
    iterations: usize,
    latency_ms: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        flows: 50,
        iterations: 5,
        latency_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match flag.as_str() {
            "--flows" => a.flows = num("--flows")?.clamp(1, 1000) as usize,
            "--iterations" => a.iterations = num("--iterations")?.clamp(1, 1000) as usize,
            "--latency-ms" => a.latency_ms = num("--latency-ms")?,
            "-h" | "--help" => {
                return Err(
                    "usage: bench [--flows 50] [--iterations 5] [--latency-ms 0]".to_string(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The first form of a page: absolute action and its non-button inputs.
fn form(host: &str, html: &str) -> Result<(String, HashMap<String, String>), String> {
    let start = html.find("<form").ok_or("page has no form")?;
    let end = html[start..]
        .find("</form>")
        .map(|e| e + start)
        .unwrap_or(html.len());
    let chunk = &html[start..end];
    let tag_end = chunk.find('>').ok_or("form tag")?;
    let action = attr(&chunk[..tag_end], "action").unwrap_or_default();
    let action = if action.starts_with("https://") {
        action
    } else {
        format!("https://{host}{action}")
    };
    let mut fields = HashMap::new();
    let mut rest = chunk;
    while let Some(i) = rest.find("<input") {
        let e = rest[i..].find('>').ok_or("input end")? + i;
        let tag = &rest[i..e];
        if let Some(n) = attr(tag, "name") {
            let ty = attr(tag, "type").unwrap_or_default();
            if !matches!(ty.as_str(), "submit" | "button" | "checkbox") {
                fields.insert(n, attr(tag, "value").unwrap_or_default());
            }
        }
        rest = &rest[e..];
    }
    Ok((action, fields))
}

fn client(sim: &entra_sim::SimHandle) -> Result<reqwest::Client, String> {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut b = reqwest::Client::builder()
        .tls_certs_only([ca])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none());
    for h in entra_sim::tls::HOSTS {
        b = b.resolve(h, sim.addr);
    }
    b.build().map_err(|e| e.to_string())
}

/// One timed request; returns status, Location and body.
async fn timed(
    lat: &mut Vec<Duration>,
    rb: reqwest::RequestBuilder,
) -> Result<(u16, String, String), String> {
    let t0 = Instant::now();
    let r = rb.send().await.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.text().await.map_err(|e| e.to_string())?;
    lat.push(t0.elapsed());
    Ok((status, loc, body))
}

fn expect(cond: bool, what: &str, body: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!(
            "{what}: {}",
            body.chars().take(300).collect::<String>()
        ))
    }
}

/// One full sign-in up to the Security info page.
async fn sign_in(
    sim: &entra_sim::SimHandle,
    upn: &str,
    lat: &mut Vec<Duration>,
) -> Result<(), String> {
    let login = "login.microsoftonline.com";
    let control = client(sim)?;
    let tap: Value = control
        .post(format!("https://{login}/__sim/users/{upn}/taps"))
        .json(&json!({"isUsableOnce": true, "lifetimeInMinutes": 60}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let pass = tap["pass"].as_str().ok_or("no TAP")?.to_string();
    let c = client(sim)?;
    let (s, loc, body) = timed(lat, c.get("https://mysignins.microsoft.com/security-info")).await?;
    expect(s == 303, "security-info redirects", &body)?;
    let (s, _, html) = timed(lat, c.get(&loc)).await?;
    expect(
        s == 200 && html.contains("loginfmt"),
        "username page",
        &html,
    )?;
    let (action, mut f) = form(login, &html)?;
    f.insert("loginfmt".into(), upn.into());
    let (_, _, html) = timed(lat, c.post(&action).form(&f)).await?;
    expect(html.contains("accesspass"), "TAP page", &html)?;
    let (action, mut f) = form(login, &html)?;
    f.insert("accesspass".into(), pass);
    let (_, _, html) = timed(lat, c.post(&action).form(&f)).await?;
    expect(html.contains("KmsiInterrupt"), "KMSI page", &html)?;
    let (action, f) = form(login, &html)?;
    let (_, _, html) = timed(lat, c.post(&action).form(&f)).await?;
    expect(html.contains("hiddenform"), "form_post page", &html)?;
    let (action, f) = form("mysignins.microsoft.com", &html)?;
    let (s, _, body) = timed(lat, c.post(&action).form(&f)).await?;
    expect(s == 303, "callback redirects", &body)?;
    let (s, _, html) = timed(lat, c.get("https://mysignins.microsoft.com/security-info")).await?;
    expect(
        s == 200 && html.contains("securityinfo.js"),
        "Security info page",
        &html,
    )?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(a)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(a: Args) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "entra-sim-bench-{}-{}",
        std::process::id(),
        entra_sim::util::random_hex(4)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // The demo tenant plus one user per flow, so TAPs never collide.
    let mut seed: Value =
        serde_json::from_str(entra_sim::state::DEMO_SEED).map_err(|e| e.to_string())?;
    let users = seed["users"].as_array_mut().ok_or("seed users")?;
    for i in 0..a.flows {
        users.push(json!({
            "id": format!("b0000000-0000-4000-8000-{i:012}"),
            "userPrincipalName": format!("bench{i}@contoso.com"),
            "displayName": format!("Bench User {i}"),
        }));
    }
    let seed_path = dir.join("seed.json");
    std::fs::write(&seed_path, seed.to_string()).map_err(|e| e.to_string())?;
    let mut cfg = SimConfig::new(&dir);
    cfg.seed = Some(seed_path);
    cfg.latency_ms = a.latency_ms;
    let sim = std::sync::Arc::new(Sim::start(cfg).await.map_err(|e| e.to_string())?);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..a.flows {
        let sim = sim.clone();
        let iterations = a.iterations;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            for _ in 0..iterations {
                if let Err(e) = sign_in(&sim, &format!("bench{i}@contoso.com"), &mut lat).await {
                    errors.push(e);
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for t in tasks {
        let (lat, errs) = t.await.map_err(|e| e.to_string())?;
        all.extend(lat);
        errors.extend(errs);
    }
    let wall = started.elapsed();
    all.sort();
    let sign_ins = a.flows * a.iterations - errors.len();
    println!(
        "entra-sim bench: {} concurrent flows x {} sign-ins (username -> TAP -> KMSI -> security-info), added latency {} ms",
        a.flows, a.iterations, a.latency_ms
    );
    println!(
        "requests {}  sign-ins ok {}  failed {}  wall {:.2} s  ({:.0} req/s)",
        all.len(),
        sign_ins,
        errors.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64().max(1e-9)
    );
    println!(
        "page latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        percentile(&all, 50.0),
        percentile(&all, 90.0),
        percentile(&all, 99.0),
        all.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    );
    match vm_hwm_kib() {
        Some(k) => println!(
            "peak RSS (VmHWM, simulator + clients in one process): {:.1} MiB",
            k as f64 / 1024.0
        ),
        None => println!("peak RSS: /proc/self/status not readable"),
    }
    if let Some(e) = errors.first() {
        println!("first failure: {e}");
    }
    if let Ok(h) = std::sync::Arc::try_unwrap(sim) {
        h.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
