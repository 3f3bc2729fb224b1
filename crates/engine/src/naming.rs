//! Key names. The default follows the convention used in the field,
//! `IDM-{last 8 chars of object id}-{6 random A-Z0-9}-{yyyymmdd}`; the
//! administrator can change the template in Options.

/// The default template.
pub const DEFAULT_TEMPLATE: &str = "IDM-{oid8}-{rand6}-{yyyymmdd}";

/// Microsoft's limit for a security key's name.
pub const MAX_NAME_LEN: usize = 64;

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "unknown placeholder {{{0}}}; known: {{oid8}}, {{rand6}}, {{yyyymmdd}}, {{upn}}, {{name}}"
    )]
    UnknownPlaceholder(String),
    #[error("unclosed '{{' in the template")]
    Unclosed,
    #[error("the template is empty")]
    Empty,
}

/// What a name is made from. `random` supplies the 6 random characters
/// (the caller's randomness; tests pass a fixed one).
#[derive(Debug, Clone)]
pub struct NameParts<'a> {
    pub object_id: &'a str,
    pub upn: &'a str,
    pub display_name: &'a str,
    /// Days since the Unix epoch (UTC), for `{yyyymmdd}`.
    pub days_since_epoch: i64,
    pub random: [u8; 6],
}

const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Checks a template without rendering it.
pub fn validate(template: &str) -> Result<(), TemplateError> {
    let parts = NameParts {
        object_id: "00000000",
        upn: "a@b",
        display_name: "a",
        days_since_epoch: 0,
        random: [0; 6],
    };
    render(template, &parts).map(drop)
}

/// Renders `template`; the result is cut to [`MAX_NAME_LEN`] characters.
pub fn render(template: &str, p: &NameParts<'_>) -> Result<String, TemplateError> {
    if template.trim().is_empty() {
        return Err(TemplateError::Empty);
    }
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or(TemplateError::Unclosed)?;
        let key = &after[..end];
        match key {
            "oid8" => {
                let oid: String = p.object_id.chars().filter(|c| *c != '-').collect();
                let n = oid.chars().count();
                out.extend(oid.chars().skip(n.saturating_sub(8)));
            }
            "rand6" => out.extend(p.random.iter().map(|b| ALPHABET[*b as usize % 36] as char)),
            "yyyymmdd" => {
                let (y, m, d) = civil_from_days(p.days_since_epoch);
                out.push_str(&format!("{y:04}{m:02}{d:02}"));
            }
            "upn" => out.push_str(p.upn),
            "name" => out.push_str(p.display_name),
            other => return Err(TemplateError::UnknownPlaceholder(other.to_string())),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let name: String = out
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_LEN)
        .collect();
    Ok(name.trim().to_string())
}

/// Gregorian (year, month, day) from days since 1970-01-01 (Howard
/// Hinnant's algorithm). Public for the extension's pages, which show dates
/// without pulling in a date library.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> NameParts<'static> {
        NameParts {
            object_id: "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            upn: "adele@contoso.com",
            display_name: "Adele Vance",
            days_since_epoch: 20_779, // 2026-11-22
            random: [0, 1, 25, 26, 35, 36],
        }
    }

    #[test]
    fn default_template() {
        assert_eq!(
            render(DEFAULT_TEMPLATE, &parts()),
            Ok("IDM-23456789-ABZ09A-20261122".into())
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
    }

    #[test]
    fn other_placeholders_and_limit() {
        assert_eq!(render("{name} key", &parts()), Ok("Adele Vance key".into()));
        let long = render(&"x".repeat(100), &parts()).expect("renders");
        assert_eq!(long.len(), MAX_NAME_LEN);
    }

    #[test]
    fn bad_templates() {
        assert_eq!(
            validate("IDM-{oid}"),
            Err(TemplateError::UnknownPlaceholder("oid".into()))
        );
        assert_eq!(validate("IDM-{oid8"), Err(TemplateError::Unclosed));
        assert_eq!(validate("  "), Err(TemplateError::Empty));
    }
}
