//! Every visible text of every page, in English, German, French and Japanese.
//! Pages look texts up by key; DOM ids, names and aria attributes never go
//! through this table, so they are the same in every locale (as on Microsoft's).

//! Every visible text of every page, in fifteen languages. Pages look texts
//! up by key; DOM ids, names and aria attributes never go through this table,
//! so they are the same in every locale (as on Microsoft's).
//!
//! The texts are data: one file per language in `crates/entra-sim/locales/`,
//! one `key = text` line per text. Every key of `en.txt` is in every other
//! file, except the developer-facing protocol messages (keys starting with
//! `err_`, shown after an AADSTS code): Microsoft writes those in English
//! whatever the page's language, so a file may leave them out and English is
//! shown. Where the wordings come from: `docs/microsoft-pages.md`.

use std::sync::OnceLock;

/// One language the pages can be shown in.
#[derive(Debug)]
pub struct Lang {
    /// The code the `locale` scenario switch takes, and `<html lang>`.
    pub code: &'static str,
    /// BCP 47 tag and Windows LCID, for `$Config.locale`.
    pub mkt: &'static str,
    pub lcid: u32,
    /// Right-to-left script (`<html dir="rtl">`).
    pub rtl: bool,
    /// Further `Accept-Language` tags (lowercase) that pick this language.
    pub aliases: &'static [&'static str],
    file: &'static str,
}

macro_rules! lang {
    ($code:literal, $mkt:literal, $lcid:literal, $rtl:literal, [$($alias:literal),*]) => {
        Lang {
            code: $code,
            mkt: $mkt,
            lcid: $lcid,
            rtl: $rtl,
            aliases: &[$($alias),*],
            file: include_str!(concat!("../locales/", $code, ".txt")),
        }
    };
}

/// Every language, English first (the fallback).
pub static LANGS: &[Lang] = &[
    lang!("en", "en-US", 1033, false, ["en-us", "en-gb"]),
    lang!("de", "de-DE", 1031, false, ["de-de", "de-at", "de-ch"]),
    lang!("fr", "fr-FR", 1036, false, ["fr-fr", "fr-ca", "fr-be"]),
    lang!("ja", "ja-JP", 1041, false, ["ja-jp"]),
    lang!("es", "es-ES", 3082, false, ["es-es", "es-mx", "es-419"]),
    lang!("ko", "ko-KR", 1042, false, ["ko-kr"]),
    lang!("ar", "ar-SA", 1025, true, ["ar-sa", "ar-ae", "ar-eg"]),
    lang!("he", "he-IL", 1037, true, ["he-il", "iw"]),
    lang!(
        "zh-Hans",
        "zh-CN",
        2052,
        false,
        ["zh-hans", "zh-cn", "zh-sg", "zh"]
    ),
    lang!("pt-BR", "pt-BR", 1046, false, ["pt-br", "pt"]),
    lang!("ru", "ru-RU", 1049, false, ["ru-ru"]),
    lang!("it", "it-IT", 1040, false, ["it-it"]),
    lang!("nl", "nl-NL", 1043, false, ["nl-nl", "nl-be"]),
    lang!("pl", "pl-PL", 1045, false, ["pl-pl"]),
    lang!("tr", "tr-TR", 1055, false, ["tr-tr"]),
];

/// The codes of [`LANGS`], for validation messages.
pub fn codes() -> Vec<&'static str> {
    LANGS.iter().map(|l| l.code).collect()
}

/// The language with this exact code.
pub fn lang(code: &str) -> Option<&'static Lang> {
    LANGS.iter().find(|l| l.code == code)
}

/// The language an `Accept-Language` tag asks for: its code, an alias, or
/// its primary subtag (`es-AR` → `es`).
pub fn for_tag(tag: &str) -> Option<&'static Lang> {
    let tag = tag.trim().to_ascii_lowercase();
    if tag.is_empty() {
        return None;
    }
    let primary = tag.split('-').next().unwrap_or("");
    LANGS
        .iter()
        .find(|l| l.code.eq_ignore_ascii_case(&tag) || l.aliases.contains(&tag.as_str()))
        .or_else(|| {
            LANGS
                .iter()
                .find(|l| l.code.eq_ignore_ascii_case(primary) || l.aliases.contains(&primary))
        })
}

/// Whether pages in `code` are written right to left.
pub fn is_rtl(code: &str) -> bool {
    lang(code).is_some_and(|l| l.rtl)
}

type Table = Vec<(&'static str, &'static str)>;

fn parse(file: &'static str) -> Table {
    file.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

fn tables() -> &'static Vec<Table> {
    static T: OnceLock<Vec<Table>> = OnceLock::new();
    T.get_or_init(|| LANGS.iter().map(|l| parse(l.file)).collect())
}

fn index(lang: &str) -> usize {
    LANGS.iter().position(|l| l.code == lang).unwrap_or(0)
}

fn lookup(i: usize, key: &str) -> Option<&'static str> {
    tables()[i].iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The text for `key` in `lang` (a code of [`LANGS`]; anything else is
/// English). A text a language leaves out is English; an unknown key
/// returns the key itself, so a missing entry shows up on the page.
pub fn t(lang: &str, key: &'static str) -> &'static str {
    lookup(index(lang), key)
        .or_else(|| lookup(0, key))
        .unwrap_or(key)
}

/// `key`'s text with each `{name}` replaced by its value.
pub fn tf(lang: &str, key: &'static str, args: &[(&str, &str)]) -> String {
    let mut out = t(lang, key).to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The key-limit message with the tenant's configured limit.
pub fn limit_reached(lang: &str, limit: usize) -> String {
    tf(lang, "limit_reached", &[("limit", &limit.to_string())])
}

/// The whole table for one language, for client-rendered pages.
pub fn table(lang: &str) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = tables()[0]
        .iter()
        .map(|(k, en)| {
            let v = lookup(index(lang), k).unwrap_or(en);
            (k.to_string(), serde_json::Value::from(v))
        })
        .collect();
    serde_json::Value::Object(map)
}

/// BCP 47 tag and Windows LCID, for `$Config.locale`.
pub fn mkt(lang: &str) -> (&'static str, u32) {
    let l = &LANGS[index(lang)];
    (l.mkt, l.lcid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every language has every text of English (the `err_` protocol
    /// messages may stay English), no key twice, no empty text, no key
    /// English lacks; and each `{placeholder}` of English is kept.
    #[test]
    fn every_key_is_translated_and_unique() {
        assert_eq!(LANGS.len(), tables().len());
        assert!(LANGS.len() >= 15, "{}", LANGS.len());
        let en = &tables()[0];
        for (l, table) in LANGS.iter().zip(tables()) {
            let lines = l
                .file
                .lines()
                .filter(|x| !x.trim().is_empty() && !x.starts_with('#'))
                .count();
            assert_eq!(lines, table.len(), "{}: a line without ` = `", l.code);
            let mut keys = std::collections::HashSet::new();
            for (k, v) in table {
                assert!(keys.insert(*k), "{}: duplicate key {k}", l.code);
                assert!(!v.is_empty(), "{}: {k} is empty", l.code);
                assert!(
                    en.iter().any(|(e, _)| e == k),
                    "{}: {k} is not an English key",
                    l.code
                );
            }
            for (k, v) in en {
                if k.starts_with("err_") && l.code != "en" && !keys.contains(k) {
                    continue;
                }
                let Some(tv) = lookup(index(l.code), k) else {
                    panic!("{}: {k} is not translated", l.code);
                };
                for part in v.split('{').skip(1) {
                    let name = part.split('}').next().unwrap_or("");
                    assert!(
                        tv.contains(&format!("{{{name}}}")),
                        "{}: {k} lacks {{{name}}}",
                        l.code
                    );
                }
            }
        }
    }

    #[test]
    fn tags_pick_languages() {
        assert_eq!(for_tag("es-AR").map(|l| l.code), Some("es"));
        assert_eq!(for_tag("zh-CN").map(|l| l.code), Some("zh-Hans"));
        assert_eq!(for_tag("pt").map(|l| l.code), Some("pt-BR"));
        assert_eq!(for_tag("he-IL").map(|l| l.code), Some("he"));
        assert!(for_tag("xx").is_none());
        assert!(is_rtl("ar") && is_rtl("he") && !is_rtl("en"));
        assert_eq!(mkt("ko"), ("ko-KR", 1042));
    }
}
