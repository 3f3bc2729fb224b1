//! Text fallbacks, per locale. Pages are recognised by attributes first;
//! these tables are only consulted where Microsoft offers nothing stable
//! (a dropdown option's label, a banner's message). Each entry lists the
//! English, German, French and Japanese wording; matching is by
//! case-insensitive substring, so small wording changes around the phrase
//! do not break it.

/// A phrase in every supported language (English, German, French,
/// Japanese, in that order; extra wordings may follow).
pub type Phrase = &'static [&'static str];

/// The "Security key" option of the method picker.
pub const SECURITY_KEY: Phrase = &[
    "Security key",
    "Sicherheitsschlüssel",
    "Clé de sécurité",
    "セキュリティ キー",
];
/// The "USB device" choice of the security-key wizard.
pub const USB_DEVICE: Phrase = &["USB device", "USB-Gerät", "Appareil USB", "USB デバイス"];
/// "Add" (the method picker's confirm button).
pub const ADD: Phrase = &["Add", "Hinzufügen", "Ajouter", "追加"];
/// "Next".
pub const NEXT: Phrase = &["Next", "Weiter", "Suivant", "次へ"];
/// "Done".
pub const DONE: Phrase = &["Done", "Fertig", "Terminé", "完了"];
/// The 10-key limit banner. Several wordings per language are listed where
/// Microsoft's text varies between pages and releases.
pub const KEY_LIMIT: Phrase = &[
    "limit of 10 security keys",
    "Limit von 10 Sicherheitsschlüsseln",
    "limite de 10 clés de sécurité",
    "上限 (10 個)",
    "10 個のセキュリティ キー",
];
/// "To set up a security key, you need to sign in with two-factor authentication."
pub const TWO_FACTOR: Phrase = &[
    "two-factor authentication",
    "zweistufiger Authentifizierung",
    "authentification à deux facteurs",
    "2 要素認証",
];
/// Attestation / key-model rejection on registration.
pub const KEY_REQUIREMENTS: Phrase = &[
    "security key requirements",
    "Anforderungen Ihrer Organisation",
    "exigences de votre organisation",
    "キー要件",
    "キーの要件",
];
/// "Your organization doesn't allow you to add security keys."
pub const POLICY_DISALLOWS: Phrase = &[
    "doesn't allow you to add security keys",
    "erlaubt das Hinzufügen von Sicherheitsschlüsseln nicht",
    "ne vous permet pas d'ajouter des clés de sécurité",
    "セキュリティ キーの追加が許可されていません",
    "セキュリティ キーを追加することは許可されていません",
];
/// The username page's error for an account Entra does not know
/// (`AADSTS50034`). Consulted only when `$Config.iErrorCode` is missing.
pub const UNKNOWN_USER: Phrase = &[
    "This username may be incorrect",
    "Dieser Benutzername ist möglicherweise falsch",
    "Ce nom d'utilisateur est peut-être incorrect",
    "このユーザー名は正しくない可能性があります",
    "We couldn't find an account with that username",
];
/// A Temporary Access Pass that Entra looked up and refused ("Your Temporary
/// Access Pass couldn't be found or verified"), wherever the pass was typed.
/// Consulted only when `$Config.iErrorCode` is missing.
pub const TAP_REJECTED: Phrase = &[
    "couldn't be found or verified",
    "Zugriffspass wurde nicht gefunden",
    "passe d'accès temporaire est introuvable",
    "一時アクセス パスが見つからない",
    "could not be found or verified",
];

/// Whether `text` contains the phrase in any language.
pub fn contains(text: &str, phrase: Phrase) -> bool {
    let lower = text.to_lowercase();
    phrase.iter().any(|p| lower.contains(&p.to_lowercase()))
}

/// Whether `text` is exactly the phrase (trimmed, case-insensitive) in any
/// language: for short button labels, where a substring would be too loose
/// ("Add" is inside "Add sign-in method").
pub fn is(text: &str, phrase: Phrase) -> bool {
    let t = text.trim().to_lowercase();
    phrase.iter().any(|p| t == p.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_is_per_language_and_case_insensitive() {
        assert!(contains(
            "You have already reached the LIMIT of 10 security keys.",
            KEY_LIMIT
        ));
        assert!(contains(
            "Sie haben das Limit von 10 Sicherheitsschlüsseln bereits erreicht.",
            KEY_LIMIT
        ));
        assert!(is(" Hinzufügen ", ADD));
        assert!(!is("Add sign-in method", ADD));
        assert!(!contains("Security info", SECURITY_KEY));
    }
}
