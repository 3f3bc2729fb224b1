//! The command line of the `entra-sim` binary, in the library so the
//! benchmark can run the very same server in a child process of its own.
//!
//! `entra-sim --listen 127.0.0.1:PORT --state DIR [--seed FILE] [--latency-ms N]`

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{Sim, SimConfig};

pub const USAGE: &str =
    "usage: entra-sim --listen 127.0.0.1:PORT --state DIR [--seed FILE] [--latency-ms N]";

/// Parses the arguments (without the program name).
pub fn parse_args(args: &[String]) -> Result<SimConfig, String> {
    let mut listen: Option<SocketAddr> = None;
    let mut state: Option<PathBuf> = None;
    let mut seed = None;
    let mut latency_ms = 0;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        if name == "--help" || name == "-h" {
            return Err(USAGE.to_string());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match name {
            "--listen" => {
                let v = value()?;
                listen = Some(v.parse().map_err(|e| format!("--listen {v}: {e}"))?);
            }
            "--state" => state = Some(PathBuf::from(value()?)),
            "--seed" => seed = Some(PathBuf::from(value()?)),
            "--latency-ms" => {
                let v = value()?;
                latency_ms = v.parse().map_err(|e| format!("--latency-ms {v}: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let listen = listen.ok_or_else(|| format!("--listen is required\n{USAGE}"))?;
    let state_dir = state.ok_or_else(|| format!("--state is required\n{USAGE}"))?;
    Ok(SimConfig {
        listen,
        state_dir,
        seed,
        latency_ms,
    })
}

/// Runs the simulator until SIGINT or SIGTERM: prints the ready line on
/// stdout, then serves; on the signal, stops and saves the tenant.
pub fn main(args: &[String]) -> ExitCode {
    let cfg = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("entra-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let handle = match Sim::start(cfg).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("entra-sim: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", handle.ready_line());
        let _ = out.flush();
        drop(out);
        crate::log(&format!(
            "serving {} on {} (CA {})",
            crate::tls::HOSTS.join(", "),
            handle.addr,
            handle.ca_pem_path.display()
        ));
        wait_for_signal().await;
        crate::log("stopping");
        handle.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
