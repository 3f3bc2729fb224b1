//! The administrator's settings as stored in `chrome.storage.local` under
//! [`KEY`]: written by the Options page, read by the service worker.

use crate::origin::{OriginPattern, OriginPatternError, default_allowed_origins};
use serde::{Deserialize, Serialize};

/// The storage key.
pub const KEY: &str = "settings";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Panel origins whose requests the worker obeys. Default: the reference
    /// panel on loopback ([`default_allowed_origins`]).
    #[serde(default = "default_allowed_origins")]
    pub allowed_origins: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            allowed_origins: default_allowed_origins(),
        }
    }
}

/// Checks the Options page's "allowed panel origins" text, one origin per
/// line (blank lines ignored). Returns the normalised patterns, or every bad
/// line with its 1-based line number so the page can point at each.
pub fn parse_allowed_origins(text: &str) -> Result<Vec<String>, Vec<(usize, OriginPatternError)>> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match OriginPattern::parse(line) {
            Ok(p) => {
                let p = p.to_string();
                if !good.contains(&p) {
                    good.push(p);
                }
            }
            Err(e) => bad.push((i + 1, e)),
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_take_defaults() {
        let s: Settings = serde_json::from_str("{}").expect("parses");
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn lines_are_normalised_and_deduplicated() {
        let got = parse_allowed_origins(
            "https://Panel.contoso.com/\n\nhttps://panel.contoso.com\nhttp://127.0.0.1:*\n",
        );
        assert_eq!(
            got,
            Ok(vec![
                "https://panel.contoso.com".to_string(),
                "http://127.0.0.1:*".to_string()
            ])
        );
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let got = parse_allowed_origins("https://ok.example\nhttp://remote.example\nnot an origin");
        let lines: Vec<usize> = got.expect_err("refused").iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, vec![2, 3]);
    }
}
