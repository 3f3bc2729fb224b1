//! Allowed panel origins.
//!
//! The manifest's `externally_connectable` decides which pages may *talk* to
//! the extension at all; this list, kept in the extension's settings and
//! edited on the Options page, decides which of them it *obeys*. Patterns are
//! origins, optionally with `*` as the port (`http://127.0.0.1:*`), because
//! the reference panel runs on loopback with a port chosen at start.

use std::fmt;

/// One allowed origin: `scheme://host[:port]` or `scheme://host:*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: String,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
}

/// Why a string is not a usable origin pattern. Carries the input so the
/// Options page can show which line is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginPatternError {
    #[error(
        "{input:?} is not an origin: expected scheme://host[:port], e.g. https://panel.contoso.com"
    )]
    NotAnOrigin { input: String },
    #[error(
        "{input:?} uses scheme {scheme:?}; only https, or http on loopback (127.0.0.1, localhost), may reach the extension"
    )]
    InsecureScheme { input: String, scheme: String },
    #[error("{input:?} has a path, query or fragment; an origin is only scheme://host[:port]")]
    HasPath { input: String },
    #[error("{input:?} has an invalid port")]
    BadPort { input: String },
    #[error("{input:?} has a wildcard host; name the panel's host exactly")]
    WildcardHost { input: String },
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "127.0.0.1" || host == "[::1]"
}

impl OriginPattern {
    /// Parses a pattern as typed by an administrator.
    pub fn parse(input: &str) -> Result<Self, OriginPatternError> {
        let s = input.trim();
        let s = s.strip_suffix('/').unwrap_or(s);
        let not_origin = || OriginPatternError::NotAnOrigin {
            input: input.to_string(),
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(not_origin)?;
        let scheme = scheme.to_ascii_lowercase();
        if rest.is_empty() {
            return Err(not_origin());
        }
        if rest.contains(['/', '?', '#']) {
            return Err(OriginPatternError::HasPath {
                input: input.to_string(),
            });
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| OriginPatternError::BadPort {
            input: input.to_string(),
        })?;
        let host = host.to_ascii_lowercase();
        if host.is_empty() || host.contains('@') {
            return Err(not_origin());
        }
        if host.contains('*') {
            return Err(OriginPatternError::WildcardHost {
                input: input.to_string(),
            });
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        {
            return Err(not_origin());
        }
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            _ => {
                return Err(OriginPatternError::InsecureScheme {
                    input: input.to_string(),
                    scheme,
                });
            }
        }
        let port = match port {
            None => PortPattern::Exact(default_port(&scheme)),
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(p.parse().map_err(|_| OriginPatternError::BadPort {
                input: input.to_string(),
            })?),
        };
        Ok(Self { scheme, host, port })
    }

    /// Whether a concrete origin (as a browser reports it, e.g.
    /// `http://127.0.0.1:8787`) is allowed by this pattern.
    pub fn matches(&self, origin: &str) -> bool {
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        let Some((host, port)) = split_host_port(rest) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(&self.scheme) || !host.eq_ignore_ascii_case(&self.host) {
            return false;
        }
        let port = match port {
            None => default_port(&self.scheme),
            Some(p) => match p.parse::<u16>() {
                Ok(p) => p,
                Err(_) => return false,
            },
        };
        match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
        }
    }
}

/// Splits `host[:port]`, keeping IPv6 brackets on the host. `None` when the
/// port part is present but empty.
fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    let split_at = if s.starts_with('[') {
        s.find(']').map(|i| i + 1)?
    } else {
        0
    };
    match s[split_at..].find(':') {
        Some(i) => {
            let (host, port) = (&s[..split_at + i], &s[split_at + i + 1..]);
            if port.is_empty() {
                None
            } else {
                Some((host, Some(port)))
            }
        }
        None => Some((s, None)),
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        match self.port {
            PortPattern::Any => write!(f, ":*"),
            PortPattern::Exact(p) if p == default_port(&self.scheme) => Ok(()),
            PortPattern::Exact(p) => write!(f, ":{p}"),
        }
    }
}

/// The patterns a fresh install accepts: the reference panel on loopback.
pub fn default_allowed_origins() -> Vec<String> {
    vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()]
}

/// Whether `origin` is allowed by any of `patterns`. Patterns that do not
/// parse allow nothing (the Options page refuses to save them anyway).
pub fn is_allowed(patterns: &[String], origin: &str) -> bool {
    patterns
        .iter()
        .filter_map(|p| OriginPattern::parse(p).ok())
        .any(|p| p.matches(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! allowed {
        ($name:ident, $pattern:expr, $origin:expr, $want:expr) => {
            #[test]
            fn $name() {
                let p = OriginPattern::parse($pattern).expect("pattern parses");
                assert_eq!(p.matches($origin), $want, "{} vs {}", $pattern, $origin);
            }
        };
    }

    allowed!(
        loopback_any_port,
        "http://127.0.0.1:*",
        "http://127.0.0.1:8787",
        true
    );
    allowed!(
        loopback_any_port_other_host,
        "http://127.0.0.1:*",
        "http://localhost:8787",
        false
    );
    allowed!(
        exact_port,
        "http://localhost:8787",
        "http://localhost:8787",
        true
    );
    allowed!(
        exact_port_differs,
        "http://localhost:8787",
        "http://localhost:8788",
        false
    );
    allowed!(
        https_default_port,
        "https://panel.contoso.com",
        "https://panel.contoso.com",
        true
    );
    allowed!(
        https_explicit_default_port,
        "https://panel.contoso.com",
        "https://panel.contoso.com:443",
        true
    );
    allowed!(
        scheme_must_match,
        "https://panel.contoso.com",
        "http://panel.contoso.com",
        false
    );
    allowed!(
        host_case_insensitive,
        "https://Panel.Contoso.com",
        "https://panel.contoso.com",
        true
    );
    allowed!(
        suffix_is_not_a_match,
        "https://contoso.com",
        "https://evilcontoso.com",
        false
    );
    allowed!(
        subdomain_is_not_a_match,
        "https://contoso.com",
        "https://a.contoso.com",
        false
    );
    allowed!(
        trailing_slash_ok,
        "https://panel.contoso.com/",
        "https://panel.contoso.com",
        true
    );
    allowed!(ipv6_loopback, "http://[::1]:*", "http://[::1]:9000", true);

    macro_rules! refused {
        ($name:ident, $pattern:expr, $variant:pat) => {
            #[test]
            fn $name() {
                let err = OriginPattern::parse($pattern).expect_err("pattern must be refused");
                assert!(matches!(err, $variant), "{err:?}");
                assert!(
                    err.to_string().contains($pattern.trim()),
                    "message names the input: {err}"
                );
            }
        };
    }

    refused!(
        plain_http_remote,
        "http://panel.contoso.com",
        OriginPatternError::InsecureScheme { .. }
    );
    refused!(
        no_scheme,
        "panel.contoso.com",
        OriginPatternError::NotAnOrigin { .. }
    );
    refused!(
        with_path,
        "https://panel.contoso.com/admin",
        OriginPatternError::HasPath { .. }
    );
    refused!(
        bad_port,
        "https://panel.contoso.com:99999",
        OriginPatternError::BadPort { .. }
    );
    refused!(
        empty_port,
        "https://panel.contoso.com:",
        OriginPatternError::BadPort { .. }
    );
    refused!(
        wildcard_host,
        "https://*.contoso.com",
        OriginPatternError::WildcardHost { .. }
    );
    refused!(
        userinfo,
        "https://a@b.com",
        OriginPatternError::NotAnOrigin { .. }
    );
    refused!(
        ftp,
        "ftp://localhost",
        OriginPatternError::InsecureScheme { .. }
    );

    #[test]
    fn display_round_trips() {
        for p in [
            "http://127.0.0.1:*",
            "https://panel.contoso.com",
            "http://localhost:8787",
        ] {
            assert_eq!(OriginPattern::parse(p).expect("parses").to_string(), p);
        }
    }

    #[test]
    fn defaults_allow_loopback_only() {
        let d = default_allowed_origins();
        assert!(is_allowed(&d, "http://127.0.0.1:41234"));
        assert!(is_allowed(&d, "http://localhost:3000"));
        assert!(!is_allowed(&d, "https://evil.example"));
        assert!(!is_allowed(&d, "null"));
    }
}
