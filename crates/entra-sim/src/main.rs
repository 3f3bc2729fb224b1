//! `entra-sim --listen 127.0.0.1:PORT --state DIR [--seed FILE] [--latency-ms N]`

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    entra_sim::cli::main(&args)
}
