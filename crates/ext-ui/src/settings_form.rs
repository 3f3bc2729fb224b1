//! The Options form as text, checked field by field into
//! [`protocol::settings::Settings`]. Pure; tested natively.
//!
//! Saving is all or nothing: [`SettingsForm::validate`] returns either the
//! complete settings or every field's problem, so the page can mark each
//! field and save nothing.

use engine::naming::{self, DEFAULT_TEMPLATE, NameParts};
use protocol::settings::{Settings, TIMEOUT_RANGE_S, parse_allowed_origins};
use std::fmt;

/// The form's fields that can be wrong. [`Field::id`] is the input's id in
/// `options.html`; its message goes in the element `{id}-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    AllowedOrigins,
    KeyNameTemplate,
    StepTimeout,
    RegisterTimeout,
    TapPropagation,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::AllowedOrigins,
        Field::KeyNameTemplate,
        Field::StepTimeout,
        Field::RegisterTimeout,
        Field::TapPropagation,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Field::AllowedOrigins => "allowed-origins",
            Field::KeyNameTemplate => "key-template",
            Field::StepTimeout => "step-timeout",
            Field::RegisterTimeout => "register-timeout",
            Field::TapPropagation => "tap-propagation",
        }
    }

    /// Where the field's message goes. The origins' element predates this
    /// scheme and keeps its id (`origins-error`).
    pub fn error_id(self) -> &'static str {
        match self {
            Field::AllowedOrigins => "origins-error",
            Field::KeyNameTemplate => "key-template-error",
            Field::StepTimeout => "step-timeout-error",
            Field::RegisterTimeout => "register-timeout-error",
            Field::TapPropagation => "tap-propagation-error",
        }
    }
}

/// One field's problem, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field.id(), self.message)
    }
}

/// What the form's inputs hold, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsForm {
    /// One origin per line.
    pub allowed_origins: String,
    /// Empty means the default template.
    pub key_name_template: String,
    pub show_window: bool,
    pub record_snapshots: bool,
    pub ask_for_english: bool,
    /// Seconds, as typed (a number input gives `""` for non-numbers).
    pub step_timeout_s: String,
    pub register_timeout_s: String,
    pub tap_propagation_s: String,
}

impl SettingsForm {
    /// The form filled from stored settings.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            allowed_origins: s.allowed_origins.join("\n"),
            key_name_template: s.key_name_template.clone().unwrap_or_default(),
            show_window: s.show_window,
            record_snapshots: s.record_snapshots,
            ask_for_english: s.ask_for_english,
            step_timeout_s: s.step_timeout_s.to_string(),
            register_timeout_s: s.register_timeout_s.to_string(),
            tap_propagation_s: s.tap_propagation_s.to_string(),
        }
    }

    /// The settings this form describes, on top of `base` (fields the form
    /// does not show are kept), or every field's problem.
    pub fn validate(&self, base: &Settings) -> Result<Settings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = base.clone();
        out.show_window = self.show_window;
        out.record_snapshots = self.record_snapshots;
        out.ask_for_english = self.ask_for_english;

        match parse_allowed_origins(&self.allowed_origins) {
            Ok(list) if list.is_empty() => errors.push(FieldError {
                field: Field::AllowedOrigins,
                message: "Add at least one origin, or no panel can use the extension.".into(),
            }),
            Ok(list) => out.allowed_origins = list,
            Err(bad) => {
                let lines: Vec<String> =
                    bad.iter().map(|(n, e)| format!("Line {n}: {e}")).collect();
                errors.push(FieldError {
                    field: Field::AllowedOrigins,
                    message: lines.join("\n"),
                });
            }
        }

        match template_value(&self.key_name_template) {
            Ok(t) => out.key_name_template = t,
            Err(message) => errors.push(FieldError {
                field: Field::KeyNameTemplate,
                message,
            }),
        }

        for (field, text, slot) in [
            (
                Field::StepTimeout,
                &self.step_timeout_s,
                &mut out.step_timeout_s,
            ),
            (
                Field::RegisterTimeout,
                &self.register_timeout_s,
                &mut out.register_timeout_s,
            ),
            (
                Field::TapPropagation,
                &self.tap_propagation_s,
                &mut out.tap_propagation_s,
            ),
        ] {
            match timeout(text) {
                Ok(v) => *slot = v,
                Err(message) => errors.push(FieldError { field, message }),
            }
        }

        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// The stored template: `None` for empty or the default, so a later change of
/// the default reaches administrators who never changed it.
fn template_value(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() || t == DEFAULT_TEMPLATE {
        return Ok(None);
    }
    naming::validate(t).map_err(|e| capitalise(&e.to_string()))?;
    Ok(Some(t.to_string()))
}

/// A timeout in whole seconds within [`TIMEOUT_RANGE_S`].
fn timeout(text: &str) -> Result<u32, String> {
    let (lo, hi) = (TIMEOUT_RANGE_S.start(), TIMEOUT_RANGE_S.end());
    let range = format!("Enter whole seconds from {lo} to {hi}");
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("{range}."));
    }
    match t.parse::<u64>() {
        Ok(v) if TIMEOUT_RANGE_S.contains(&u32::try_from(v).unwrap_or(u32::MAX)) => Ok(v as u32),
        Ok(v) => Err(format!("{range}; {v} is out of range.")),
        Err(_) => Err(format!(
            "{range}; \u{201c}{t}\u{201d} is not a whole number."
        )),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The sample user the example key name is made for.
const EXAMPLE_OBJECT_ID: &str = "7c1f9a2e-5b3d-4e8f-a6c2-0d9e8b4f3a21";
const EXAMPLE_UPN: &str = "adele.vance@contoso.com";
const EXAMPLE_NAME: &str = "Adele Vance";
/// Fixed "random" characters, so the example does not flicker while typing.
const EXAMPLE_RANDOM: [u8; 6] = [10, 33, 16, 28, 23, 12]; // K7Q2XM

/// The name the template gives a sample user today (`days_since_epoch`,
/// UTC), or why the template cannot be used. Empty means the default.
pub fn example_key_name(template: &str, days_since_epoch: i64) -> Result<String, String> {
    let t = template.trim();
    let t = if t.is_empty() { DEFAULT_TEMPLATE } else { t };
    naming::render(
        t,
        &NameParts {
            object_id: EXAMPLE_OBJECT_ID,
            upn: EXAMPLE_UPN,
            display_name: EXAMPLE_NAME,
            days_since_epoch,
            random: EXAMPLE_RANDOM,
        },
    )
    .map_err(|e| capitalise(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SettingsForm {
        SettingsForm::from_settings(&Settings::default())
    }

    #[test]
    fn defaults_round_trip() {
        assert_eq!(
            form().validate(&Settings::default()),
            Ok(Settings::default())
        );
    }

    #[test]
    fn every_field_is_taken() {
        let f = SettingsForm {
            allowed_origins: "https://panel.contoso.com\n\nhttp://127.0.0.1:*".into(),
            key_name_template: " {upn}-{yyyymmdd} ".into(),
            show_window: true,
            record_snapshots: true,
            ask_for_english: false,
            step_timeout_s: "45".into(),
            register_timeout_s: " 90 ".into(),
            tap_propagation_s: "1800".into(),
        };
        let s = f.validate(&Settings::default()).expect("valid");
        assert_eq!(
            s.allowed_origins,
            ["https://panel.contoso.com", "http://127.0.0.1:*"]
        );
        assert_eq!(s.key_name_template.as_deref(), Some("{upn}-{yyyymmdd}"));
        assert!(s.show_window && s.record_snapshots && !s.ask_for_english);
        assert_eq!(
            (s.step_timeout_s, s.register_timeout_s, s.tap_propagation_s),
            (45, 90, 1800)
        );
    }

    #[test]
    fn default_template_is_stored_as_none() {
        let mut f = form();
        f.key_name_template = DEFAULT_TEMPLATE.into();
        assert_eq!(
            f.validate(&Settings::default())
                .expect("valid")
                .key_name_template,
            None
        );
    }

    #[test]
    fn every_bad_field_is_named_and_nothing_is_returned() {
        let f = SettingsForm {
            allowed_origins: "http://panel.contoso.com".into(),
            key_name_template: "IDM-{oid}".into(),
            show_window: false,
            record_snapshots: false,
            ask_for_english: true,
            step_timeout_s: "4".into(),
            register_timeout_s: "1801".into(),
            tap_propagation_s: "".into(),
        };
        let errors = f.validate(&Settings::default()).expect_err("invalid");
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, Field::ALL);
        assert!(errors[0].message.starts_with("Line 1: "), "{}", errors[0]);
        assert!(
            errors[1].message.starts_with("Unknown placeholder {oid}"),
            "{}",
            errors[1]
        );
        assert_eq!(
            errors[2].message,
            "Enter whole seconds from 5 to 1800; 4 is out of range."
        );
        assert_eq!(
            errors[3].message,
            "Enter whole seconds from 5 to 1800; 1801 is out of range."
        );
        assert_eq!(errors[4].message, "Enter whole seconds from 5 to 1800.");
    }

    macro_rules! timeouts {
        ($($name:ident: $text:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(timeout($text).ok(), $want);
            }
        )*};
    }

    timeouts! {
        lower_bound: "5" => Some(5);
        upper_bound: "1800" => Some(1800);
        below: "4" => None;
        above: "1801" => None;
        huge_does_not_wrap: "4294967301" => None;
        fraction: "30.5" => None;
        negative: "-30" => None;
        words: "thirty" => None;
    }

    #[test]
    fn no_origins_is_refused() {
        let mut f = form();
        f.allowed_origins = "\n \n".into();
        let errors = f.validate(&Settings::default()).expect_err("invalid");
        assert_eq!(errors[0].field, Field::AllowedOrigins);
    }

    #[test]
    fn fields_the_form_does_not_show_are_kept() {
        let base = Settings {
            record_snapshots: true,
            ..Settings::default()
        };
        let mut f = SettingsForm::from_settings(&base);
        f.show_window = true;
        let s = f.validate(&base).expect("valid");
        assert!(s.record_snapshots && s.show_window);
    }

    #[test]
    fn example_names() {
        assert_eq!(
            example_key_name("", 20_779),
            Ok("IDM-8b4f3a21-K7Q2XM-20261122".into())
        );
        assert_eq!(
            example_key_name("{name} ({upn})", 0),
            Ok("Adele Vance (adele.vance@contoso.com)".into())
        );
        assert_eq!(
            example_key_name("{nope}", 0).unwrap_err().split(';').next(),
            Some("Unknown placeholder {nope}")
        );
        assert_eq!(
            example_key_name("IDM-{", 0),
            Err("Unclosed '{' in the template".into())
        );
    }
}
