//! `panel --listen 127.0.0.1:PORT --db FILE [options]`; see `--help`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use panel::graph::{GraphClient, TlsOptions};
use panel::{AppState, Config, Db, app, auth, crypto};

const USAGE: &str = "usage: panel --listen 127.0.0.1:PORT --db FILE [options]

  --authority URL             OAuth authority (default https://login.microsoftonline.com)
  --graph URL                 Microsoft Graph root (default https://graph.microsoft.com)
  --ca-file PEM               also trust these CA certificates for Microsoft (TLS inspection)
  --insecure-skip-tls-verify  accept any certificate from Microsoft (warned in log and UI)
  --resolve HOST=IP:PORT      connect to IP:PORT for HOST (repeatable)
  --data-dir DIR              keys and attestation certificates (default: the database's folder)
  --vault-key-file F          vault key (default DATA-DIR/vault.key; or env PANEL_VAULT_KEY, base64)
  --public-url URL            where browsers reach the panel (default http://LISTEN)
  --client-id ID              the Entra app registration (default: the simulator's demo app)
  --client-secret-file F      its client secret, if it is a confidential client (or env PANEL_CLIENT_SECRET)
  --tap-lifetime-minutes N    lifetime of issued Temporary Access Passes (default 60)
  --aaguid UUID               the vault's AAGUID (default 5eba1792-4170-4ad5-bb8b-55e33f0cff49)
  --attestation-cert PEM      batch attestation certificate (then any intermediates) instead of the
                              generated one; its AAGUID extension, if any, must be --aaguid
  --attestation-key PEM       its PKCS#8 P-256 private key (mode 0600)
  --attestation-ca PEM        the CA tenants must trust (default: the last certificate of --attestation-cert)
  --www DIR                   serve the front end from DIR instead of the built-in copy
  --demo-seed                 create the demo Owner account (admin / demo-password-2026) if there is none

The first Owner of a new database can also come from the environment:
PANEL_OWNER_USER and PANEL_OWNER_PASSWORD (12 characters or more).";

/// The demo Owner account `--demo-seed` creates.
const DEMO_USER: &str = "admin";
const DEMO_PASSWORD: &str = "demo-password-2026";

struct Args {
    listen: SocketAddr,
    db: PathBuf,
    authority: Option<String>,
    graph: Option<String>,
    ca_file: Option<PathBuf>,
    insecure: bool,
    resolve: Vec<(String, SocketAddr)>,
    data_dir: Option<PathBuf>,
    vault_key_file: Option<PathBuf>,
    public_url: Option<String>,
    client_id: Option<String>,
    client_secret_file: Option<PathBuf>,
    tap_lifetime: Option<u32>,
    www: Option<PathBuf>,
    demo_seed: bool,
    attestation: panel::setup::AttestationArgs,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut listen = None;
    let mut db = None;
    let mut a = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        db: PathBuf::new(),
        authority: None,
        graph: None,
        ca_file: None,
        insecure: false,
        resolve: Vec::new(),
        data_dir: None,
        vault_key_file: None,
        public_url: None,
        client_id: None,
        client_secret_file: None,
        tap_lifetime: None,
        www: None,
        demo_seed: false,
        attestation: Default::default(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match name {
            "--help" | "-h" => return Err(USAGE.into()),
            "--listen" => {
                let v = value()?;
                let addr: SocketAddr = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
                listen = Some(addr);
            }
            "--db" => db = Some(PathBuf::from(value()?)),
            "--authority" => a.authority = Some(value()?),
            "--graph" => a.graph = Some(value()?),
            "--ca-file" => a.ca_file = Some(PathBuf::from(value()?)),
            "--insecure-skip-tls-verify" => a.insecure = true,
            "--resolve" => {
                let v = value()?;
                let (host, addr) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--resolve {v}: expected HOST=IP:PORT"))?;
                let addr: SocketAddr = addr.parse().map_err(|e| format!("--resolve {v}: {e}"))?;
                a.resolve.push((host.to_string(), addr));
            }
            "--data-dir" => a.data_dir = Some(PathBuf::from(value()?)),
            "--vault-key-file" => a.vault_key_file = Some(PathBuf::from(value()?)),
            "--public-url" => a.public_url = Some(value()?),
            "--client-id" => a.client_id = Some(value()?),
            "--client-secret-file" => a.client_secret_file = Some(PathBuf::from(value()?)),
            "--tap-lifetime-minutes" => {
                let v = value()?;
                let n: u32 = v
                    .parse()
                    .map_err(|e| format!("--tap-lifetime-minutes {v}: {e}"))?;
                if !(10..=43200).contains(&n) {
                    return Err(
                        "--tap-lifetime-minutes must be 10 to 43200 (Entra's limits)".into(),
                    );
                }
                a.tap_lifetime = Some(n);
            }
            "--www" => a.www = Some(PathBuf::from(value()?)),
            "--demo-seed" => a.demo_seed = true,
            "--aaguid" => a.attestation.aaguid = Some(panel::setup::parse_aaguid(&value()?)?),
            "--attestation-cert" => a.attestation.cert = Some(PathBuf::from(value()?)),
            "--attestation-key" => a.attestation.key = Some(PathBuf::from(value()?)),
            "--attestation-ca" => a.attestation.ca = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    a.listen = listen.ok_or_else(|| format!("--listen is required\n{USAGE}"))?;
    a.db = db.ok_or_else(|| format!("--db is required\n{USAGE}"))?;
    if !a.listen.ip().is_loopback() && a.public_url.is_none() {
        return Err(
            "listening beyond loopback needs --public-url (an https:// address behind a TLS proxy)"
                .into(),
        );
    }
    Ok(a)
}

fn url_arg(name: &str, v: &str) -> Result<String, String> {
    let u = url::Url::parse(v).map_err(|e| format!("{name} {v}: {e}"))?;
    if !matches!(u.scheme(), "https" | "http") {
        return Err(format!("{name} {v}: must be an http(s) URL"));
    }
    Ok(v.trim_end_matches('/').to_string())
}

async fn start(a: Args) -> Result<(tokio::net::TcpListener, AppState, String), String> {
    let data_dir = match &a.data_dir {
        Some(d) => d.clone(),
        None => {
            a.db.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
        }
    };
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let db = Db::open(&a.db)?;

    let master = if let Some(f) = &a.vault_key_file {
        vault::MasterKey::load_or_create_file(f)
    } else if std::env::var_os("PANEL_VAULT_KEY").is_some() {
        vault::MasterKey::from_env("PANEL_VAULT_KEY")
    } else {
        vault::MasterKey::load_or_create_file(&data_dir.join("vault.key"))
    }
    .map_err(|e| e.to_string())?;
    let attestation = panel::setup::attestation(&data_dir, &a.attestation)?;
    panel::log(&format!(
        "vault AAGUID {}, {} attestation certificate",
        attestation.aaguid(),
        if a.attestation.cert.is_some() {
            "configured"
        } else {
            "generated"
        }
    ));
    let store = std::sync::Arc::new(panel::store::SqliteKeyStore::new(db.clone()));
    let vault = vault::Vault::new(store, master, attestation);
    let tokens = crypto::TokenKey::load_or_create(&data_dir.join("token.key"))?;

    let ca_pem = a
        .ca_file
        .as_ref()
        .map(|p| std::fs::read(p).map_err(|e| format!("--ca-file {}: {e}", p.display())))
        .transpose()?;
    if a.insecure {
        panel::log(
            "WARNING: --insecure-skip-tls-verify: certificates of Microsoft's servers are NOT checked; anyone on the network path can read the tenant's tokens",
        );
    }
    let authority = url_arg(
        "--authority",
        a.authority
            .as_deref()
            .unwrap_or("https://login.microsoftonline.com"),
    )?;
    let graph_root = url_arg(
        "--graph",
        a.graph.as_deref().unwrap_or("https://graph.microsoft.com"),
    )?;
    let graph = GraphClient::new(
        &authority,
        &graph_root,
        &TlsOptions {
            ca_pem,
            insecure: a.insecure,
            resolve: a.resolve.clone(),
        },
    )?;

    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    let public_url = match &a.public_url {
        Some(u) => url_arg("--public-url", u)?,
        None => format!("http://{addr}"),
    };
    let client_secret = match &a.client_secret_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| format!("--client-secret-file {}: {e}", f.display()))?
                .trim()
                .to_string(),
        ),
        None => std::env::var("PANEL_CLIENT_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
    };
    let mut config = Config::new(public_url.clone());
    config.authority = authority;
    config.graph = graph_root;
    if let Some(id) = a.client_id {
        config.client_id = id;
    }
    config.client_secret = client_secret;
    config.insecure_tls = a.insecure;
    config.www_dir = a.www;
    if let Some(n) = a.tap_lifetime {
        config.tap_lifetime_minutes = n;
    }

    if a.demo_seed {
        let empty: bool = db
            .lock()
            .map_err(|e| e.to_string())?
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM accounts)", [], |r| {
                r.get(0)
            })
            .map_err(|e| e.to_string())?;
        if empty {
            let phc = crypto::hash_password(DEMO_PASSWORD).map_err(|e| e.to_string())?;
            auth::insert_account(&db, DEMO_USER, &phc, auth::Role::Owner, true)
                .map_err(|e| e.to_string())?;
            panel::log(&format!("demo seed: Owner account {DEMO_USER:?} created"));
        }
    }
    // After the demo seed: an empty database still gets its first Owner (or
    // a log line saying how).
    panel::setup::first_owner(
        &db,
        std::env::var(panel::setup::OWNER_USER_ENV).ok().as_deref(),
        std::env::var(panel::setup::OWNER_PASSWORD_ENV)
            .ok()
            .as_deref(),
    )?;
    let state = AppState::new(db, vault, tokens, graph, config);
    Ok((listener, state, public_url))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = match parse_args(&args) {
        Ok(a) => a,
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
            eprintln!("panel: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let (listener, state, url) = match start(a).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("panel: {e}");
                return ExitCode::FAILURE;
            }
        };
        let listen = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::json!({"listen": listen, "url": url}));
            let _ = out.flush();
        }
        panel::log(&format!("serving {url}"));
        let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await
        {
            eprintln!("panel: {e}");
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Result<Args, String> {
        let mut v: Vec<String> = ["--listen", "127.0.0.1:0", "--db", "x.db"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        parse_args(&v)
    }

    #[test]
    fn attestation_options_are_parsed_and_checked() {
        let a = args(&[
            "--aaguid",
            "11111111-2222-4333-8444-555555555555",
            "--attestation-cert",
            "c.pem",
            "--attestation-key=k.pem",
            "--attestation-ca",
            "ca.pem",
        ])
        .expect("parses");
        assert_eq!(
            a.attestation.aaguid.map(|g| g.to_string()).as_deref(),
            Some("11111111-2222-4333-8444-555555555555")
        );
        assert_eq!(a.attestation.cert, Some(PathBuf::from("c.pem")));
        assert_eq!(a.attestation.key, Some(PathBuf::from("k.pem")));
        assert_eq!(a.attestation.ca, Some(PathBuf::from("ca.pem")));
        let bad = args(&["--aaguid", "not-a-uuid"]).err().unwrap_or_default();
        assert!(
            bad.contains("--aaguid") && bad.contains("not an AAGUID"),
            "{bad}"
        );
        let zero = args(&["--aaguid", "00000000-0000-0000-0000-000000000000"])
            .err()
            .unwrap_or_default();
        assert!(zero.contains("all-zero"), "{zero}");
        assert!(USAGE.contains("--attestation-cert") && USAGE.contains("--aaguid"));
    }
}
