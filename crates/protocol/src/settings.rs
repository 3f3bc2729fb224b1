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
    /// Key name template; `None` means the engine's default
    /// (`IDM-{oid8}-{rand6}-{yyyymmdd}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name_template: Option<String>,
    /// Show job windows instead of minimising them. Default: minimised.
    #[serde(default)]
    pub show_window: bool,
    /// Seconds one page transition may take. Default 30.
    #[serde(default = "default_step_timeout_s")]
    pub step_timeout_s: u32,
    /// Seconds the security key ceremony may take. Default 60.
    #[serde(default = "default_register_timeout_s")]
    pub register_timeout_s: u32,
    /// Seconds a new TAP may take to propagate. Default 120.
    #[serde(default = "default_tap_propagation_s")]
    pub tap_propagation_s: u32,
    /// Keep the snapshots jobs see (under [`SNAPSHOTS_KEY`]) so a page that
    /// broke can be sent to support and become a regression fixture.
    /// Snapshots never hold input values. Default off.
    #[serde(default)]
    pub record_snapshots: bool,
    /// Automatic jobs ask Microsoft for English pages (`Accept-Language`,
    /// `ui_locales`/`mkt` on the sign-in request). Default on.
    #[serde(default = "yes")]
    pub ask_for_english: bool,
}

fn yes() -> bool {
    true
}

/// Where recorded snapshots are kept (`chrome.storage.local`), newest last.
pub const SNAPSHOTS_KEY: &str = "snapshots";
/// How many recorded snapshots are kept.
pub const MAX_RECORDED_SNAPSHOTS: usize = 300;

fn default_step_timeout_s() -> u32 {
    30
}
fn default_register_timeout_s() -> u32 {
    60
}
fn default_tap_propagation_s() -> u32 {
    120
}

/// Bounds for the timeouts the Options page accepts, in seconds.
pub const TIMEOUT_RANGE_S: std::ops::RangeInclusive<u32> = 5..=1800;

impl Default for Settings {
    fn default() -> Self {
        Self {
            allowed_origins: default_allowed_origins(),
            key_name_template: None,
            show_window: false,
            step_timeout_s: default_step_timeout_s(),
            register_timeout_s: default_register_timeout_s(),
            tap_propagation_s: default_tap_propagation_s(),
            record_snapshots: false,
            ask_for_english: true,
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
