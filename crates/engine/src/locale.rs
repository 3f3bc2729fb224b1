//! Microsoft's wordings, per language, as data.
//!
//! Pages are recognised by structure first (input names, roles, testids,
//! `$Config.pgid`); words are one cue among several, and the only one for a
//! dropdown option's label or a banner's message. The wordings live in
//! `phrases.tsv`, embedded at build time: one row per phrase, one column per
//! language Microsoft's sign-in and My Sign-Ins pages ship, and a `source`
//! column saying where the row's wordings were found. A cell may hold
//! several wordings separated by ` | ` (Microsoft's text varies between
//! pages and releases); a cell starting with `~` is our translation, not yet
//! seen on Microsoft's pages.
//!
//! Matching ignores case, white space (Japanese writes "セキュリティ キー"
//! and "セキュリティキー"), typographic apostrophes and bidi marks, and looks
//! for the phrase in every language: a tenant's pages may mix languages (the
//! user's, the tenant's, the browser's).

use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded table.
const TABLE: &str = include_str!("phrases.tsv");

/// A phrase key of `phrases.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phrase(pub &'static str);

macro_rules! phrases {
    ($($(#[$doc:meta])* $name:ident = $key:literal;)*) => {
        $($(#[$doc])* pub const $name: Phrase = Phrase($key);)*
        /// Every phrase the engine uses (the table test checks each exists).
        pub const USED: &[Phrase] = &[$($name),*];
    };
}

phrases! {
    /// The method picker's "Security key" option.
    SECURITY_KEY = "security_key";
    /// The newer generic "Passkey (preview)" / "Passkey (FIDO2)" option.
    PASSKEY_OPTION = "passkey_option";
    /// "Passkey in Microsoft Authenticator": never chosen.
    AUTHENTICATOR_PASSKEY = "authenticator_passkey";
    /// "Microsoft Authenticator".
    MICROSOFT_AUTHENTICATOR = "microsoft_authenticator";
    /// The security-key wizard's "USB device".
    USB_DEVICE = "usb_device";
    /// The security-key wizard's "NFC device".
    NFC_DEVICE = "nfc_device";
    /// "Add".
    ADD = "add";
    /// "Next".
    NEXT = "next";
    /// "Done".
    DONE = "done";
    /// "Try again" (a transient error in the wizard).
    TRY_AGAIN = "try_again";
    /// "Cancel".
    CANCEL = "cancel";
    /// "Back".
    BACK = "back";
    /// Security info's "Add sign-in method".
    ADD_METHOD = "add_method";
    /// The method combobox's name.
    METHOD_OPTIONS = "method_options";
    /// The add-method dialog's title.
    CHOOSE_METHOD = "choose_method";
    /// "Security info".
    SECURITY_INFO = "security_info";
    /// "Stay signed in?"
    STAY_SIGNED_IN = "stay_signed_in";
    /// "Yes".
    YES = "yes";
    /// "No".
    NO = "no";
    /// "Sign in".
    SIGN_IN = "sign_in";
    /// "Skip for now" (registration campaign).
    SKIP_FOR_NOW = "skip_for_now";
    /// "Ask later" (skippable proof-up).
    ASK_LATER = "ask_later";
    /// "Skip setup".
    SKIP_SETUP = "skip_setup";
    /// "More information required".
    MORE_INFO_REQUIRED = "more_info_required";
    /// "Protect your account" / "Let's keep your account secure".
    PROTECT_ACCOUNT = "protect_account";
    /// The 10-key limit banner.
    KEY_LIMIT = "key_limit";
    /// "To set up a security key, you need to sign in with two-factor authentication."
    TWO_FACTOR = "two_factor";
    /// A key model the tenant does not allow (attestation, AAGUID list).
    KEY_REQUIREMENTS = "key_requirements";
    /// "Your organization doesn't allow you to add security keys."
    POLICY_DISALLOWS = "policy_disallows";
    /// The username page's error for an account Entra does not know.
    UNKNOWN_USER = "unknown_user";
    /// "Your Temporary Access Pass couldn't be found or verified".
    TAP_REJECTED = "tap_rejected";
    /// "Temporary Access Pass".
    TEMPORARY_ACCESS_PASS = "temporary_access_pass";
    /// "Sign in with a security key".
    SIGN_IN_WITH_KEY = "sign_in_with_key";
    /// "Sign-in options".
    SIGN_IN_OPTIONS = "sign_in_options";
    /// "Face, fingerprint, PIN or security key".
    FACE_FINGERPRINT_KEY = "face_fingerprint_key";
    /// "You're all set".
    ALL_SET = "all_set";
    /// "Something went wrong".
    SOMETHING_WENT_WRONG = "something_went_wrong";
}

struct Table {
    languages: Vec<String>,
    /// key → normalised wordings, all languages.
    wordings: HashMap<String, Vec<String>>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let parsed = parse(TABLE);
        let wordings = parsed
            .rows
            .into_iter()
            .map(|row| {
                let all = row
                    .cells
                    .iter()
                    .flat_map(|c| split_cell(c))
                    .map(|w| normalise(&w))
                    .filter(|w| !w.is_empty())
                    .collect();
                (row.key, all)
            })
            .collect();
        Table {
            languages: parsed.languages,
            wordings,
        }
    })
}

/// One row of the table, as written.
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    /// One cell per language, in the header's order.
    pub cells: Vec<String>,
    pub source: String,
}

/// The table, as written.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub languages: Vec<String>,
    pub rows: Vec<Row>,
}

/// Parses `phrases.tsv` text: header `key, languages..., source`. Rows with
/// too few cells keep what they have (the table test reports them).
pub fn parse(text: &str) -> Parsed {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let n = header.len().saturating_sub(2);
    let languages = header
        .iter()
        .skip(1)
        .take(n)
        .map(|s| s.trim().to_string())
        .collect();
    let rows = lines
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            Row {
                key: cells.first().unwrap_or(&"").trim().to_string(),
                cells: cells
                    .iter()
                    .skip(1)
                    .take(n)
                    .map(|c| c.trim().to_string())
                    .collect(),
                source: cells.get(n + 1).unwrap_or(&"").trim().to_string(),
            }
        })
        .collect();
    Parsed { languages, rows }
}

/// A cell's wordings: split on ` | `, the `~` (our translation) mark gone.
pub fn split_cell(cell: &str) -> Vec<String> {
    cell.split(" | ")
        .map(|w| w.trim().trim_start_matches('~').trim().to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The languages the table covers, as its header names them.
pub fn languages() -> &'static [String] {
    &table().languages
}

/// Lower case, no white space, plain apostrophes, no bidi marks, no
/// trailing punctuation.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_whitespace() => {}
            '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}' => {}
            // Arabic short vowels and tatweel, Hebrew points: written or
            // not, the same word.
            '\u{064b}'..='\u{065f}' | '\u{0670}' | '\u{0640}' | '\u{0591}'..='\u{05c7}' => {}
            '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{00b4}' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
    let trimmed = out.trim_end_matches(['?', '？', '؟', '.', '。', '!', ':', '…', '։']);
    trimmed.to_string()
}

fn wordings(phrase: Phrase) -> &'static [String] {
    table()
        .wordings
        .get(phrase.0)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether `text` contains the phrase in any language.
pub fn contains(text: &str, phrase: Phrase) -> bool {
    let t = normalise(text);
    !t.is_empty() && wordings(phrase).iter().any(|w| t.contains(w.as_str()))
}

/// Whether `text` is the phrase in some language: for short labels, where a
/// substring would be too loose ("Add" is inside "Add sign-in method").
pub fn is(text: &str, phrase: Phrase) -> bool {
    let t = normalise(text);
    !t.is_empty() && wordings(phrase).contains(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_ignores_case_space_and_punctuation() {
        assert!(contains(
            "You have already reached the LIMIT of 10 security keys.",
            KEY_LIMIT
        ));
        assert!(contains(
            "Sie haben das Limit von 10 Sicherheitsschlüsseln bereits erreicht.",
            KEY_LIMIT
        ));
        assert!(is(" Hinzufügen ", ADD));
        assert!(is("セキュリティキー", SECURITY_KEY));
        assert!(is("Stay signed in", STAY_SIGNED_IN));
        // Diacritics written or not: the same Arabic word.
        assert_eq!(normalise("تخطٍ"), normalise("تخط"));
        assert!(!is("Add sign-in method", ADD));
        assert!(!contains("Security info", SECURITY_KEY));
        assert!(!contains("", ADD));
    }

    #[test]
    fn every_phrase_has_every_language_and_a_source() {
        let parsed = parse(TABLE);
        assert!(
            parsed.languages.len() >= 4,
            "languages: {:?}",
            parsed.languages
        );
        let mut missing = Vec::new();
        for row in &parsed.rows {
            assert!(!row.source.is_empty(), "{}: no source", row.key);
            for (lang, cell) in parsed.languages.iter().zip(&row.cells) {
                if split_cell(cell).is_empty() {
                    missing.push(format!("{}/{lang}", row.key));
                }
            }
            if row.cells.len() < parsed.languages.len() {
                missing.push(format!("{}: {} cells", row.key, row.cells.len()));
            }
        }
        assert!(missing.is_empty(), "missing wordings: {missing:?}");
        let keys: Vec<&str> = parsed.rows.iter().map(|r| r.key.as_str()).collect();
        for p in USED {
            assert!(keys.contains(&p.0), "phrase {} is not in phrases.tsv", p.0);
        }
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len(), "a key appears twice");
    }
}
