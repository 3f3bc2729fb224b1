//! Every visible text of every page, in English, German, French and Japanese.
//! Pages look texts up by key; DOM ids, names and aria attributes never go
//! through this table, so they are the same in every locale (as on Microsoft's).

/// (key, [en, de, fr, ja])
const TEXTS: &[(&str, [&str; 4])] = &[
    (
        "signin_title",
        ["Sign in", "Anmelden", "Se connecter", "サインイン"],
    ),
    (
        "signin_placeholder",
        [
            "Email, phone, or Skype",
            "E-Mail, Telefon oder Skype",
            "E-mail, téléphone ou Skype",
            "メール、電話、Skype",
        ],
    ),
    (
        "signin_aria",
        [
            "Enter your email, phone, or Skype.",
            "Geben Sie Ihre E-Mail-Adresse, Telefonnummer oder Ihren Skype-Namen ein.",
            "Entrez votre adresse e-mail, votre numéro de téléphone ou votre nom Skype.",
            "メール、電話番号、または Skype 名を入力してください。",
        ],
    ),
    ("next", ["Next", "Weiter", "Suivant", "次へ"]),
    ("back", ["Back", "Zurück", "Retour", "戻る"]),
    (
        "sign_in_btn",
        ["Sign in", "Anmelden", "Se connecter", "サインイン"],
    ),
    (
        "cant_access",
        [
            "Can't access your account?",
            "Sie können nicht auf Ihr Konto zugreifen?",
            "Vous ne pouvez pas accéder à votre compte ?",
            "アカウントにアクセスできない場合",
        ],
    ),
    (
        "signin_security_key",
        [
            "Sign in with a security key",
            "Mit einem Sicherheitsschlüssel anmelden",
            "Se connecter avec une clé de sécurité",
            "セキュリティ キーでサインイン",
        ],
    ),
    (
        "username_empty",
        [
            "Enter a valid email address, phone number, or Skype name.",
            "Geben Sie eine gültige E-Mail-Adresse, Telefonnummer oder einen gültigen Skype-Namen ein.",
            "Entrez une adresse e-mail, un numéro de téléphone ou un nom Skype valide.",
            "有効なメール アドレス、電話番号、または Skype 名を入力してください。",
        ],
    ),
    (
        "username_unknown",
        [
            "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.",
            "Dieser Benutzername ist möglicherweise falsch. Stellen Sie sicher, dass Sie ihn richtig eingegeben haben. Wenden Sie sich andernfalls an Ihren Administrator.",
            "Ce nom d'utilisateur est peut-être incorrect. Vérifiez que vous l'avez correctement saisi. Sinon, contactez votre administrateur.",
            "このユーザー名は正しくない可能性があります。正しく入力したことを確認してください。そうでない場合は、管理者に問い合わせてください。",
        ],
    ),
    (
        "tap_title",
        [
            "Enter Temporary Access Pass",
            "Befristeten Zugriffspass eingeben",
            "Entrer le passe d'accès temporaire",
            "一時アクセス パスを入力する",
        ],
    ),
    (
        "tap_placeholder",
        [
            "Temporary Access Pass",
            "Befristeter Zugriffspass",
            "Passe d'accès temporaire",
            "一時アクセス パス",
        ],
    ),
    (
        "tap_error",
        [
            "Your Temporary Access Pass couldn't be found or verified. Check it and try again, or ask your admin for a new one.",
            "Ihr befristeter Zugriffspass wurde nicht gefunden oder konnte nicht überprüft werden. Prüfen Sie ihn und versuchen Sie es erneut, oder bitten Sie Ihren Administrator um einen neuen.",
            "Votre passe d'accès temporaire est introuvable ou n'a pas pu être vérifié. Vérifiez-le et réessayez, ou demandez-en un nouveau à votre administrateur.",
            "一時アクセス パスが見つからないか、確認できませんでした。確認してもう一度やり直すか、管理者に新しいパスを依頼してください。",
        ],
    ),
    (
        "password_title",
        [
            "Enter password",
            "Kennwort eingeben",
            "Entrez le mot de passe",
            "パスワードの入力",
        ],
    ),
    (
        "password_placeholder",
        ["Password", "Kennwort", "Mot de passe", "パスワード"],
    ),
    (
        "password_error",
        [
            "Your account or password is incorrect. If you don't remember your password, reset it now.",
            "Ihr Konto oder Kennwort ist falsch. Wenn Sie sich nicht an Ihr Kennwort erinnern, setzen Sie es jetzt zurück.",
            "Votre compte ou mot de passe est incorrect. Si vous ne vous souvenez plus de votre mot de passe, réinitialisez-le maintenant.",
            "アカウントまたはパスワードが正しくありません。パスワードを忘れた場合は、今すぐリセットしてください。",
        ],
    ),
    (
        "password_empty",
        [
            "Please enter your password.",
            "Bitte geben Sie Ihr Kennwort ein.",
            "Veuillez entrer votre mot de passe.",
            "パスワードを入力してください。",
        ],
    ),
    (
        "forgot_password",
        [
            "Forgot my password",
            "Kennwort vergessen",
            "J'ai oublié mon mot de passe",
            "パスワードを忘れた場合",
        ],
    ),
    (
        "otc_title",
        [
            "Enter code",
            "Code eingeben",
            "Entrer le code",
            "コードの入力",
        ],
    ),
    ("otc_placeholder", ["Code", "Code", "Code", "コード"]),
    (
        "kmsi_title",
        [
            "Stay signed in?",
            "Angemeldet bleiben?",
            "Rester connecté ?",
            "サインインの状態を維持しますか?",
        ],
    ),
    (
        "kmsi_desc",
        [
            "Do this to reduce the number of times you are asked to sign in.",
            "So müssen Sie sich seltener anmelden.",
            "Cela vous permet de réduire le nombre de demandes de connexion.",
            "これにより、サインインを求められる回数を減らすことができます。",
        ],
    ),
    (
        "kmsi_dont_show",
        [
            "Don't show this again",
            "Nicht mehr anzeigen",
            "Ne plus afficher ce message",
            "今後このメッセージを表示しない",
        ],
    ),
    ("yes", ["Yes", "Ja", "Oui", "はい"]),
    ("no", ["No", "Nein", "Non", "いいえ"]),
    (
        "proofup_title",
        [
            "More information required",
            "Weitere Informationen erforderlich",
            "Plus d'informations requises",
            "詳細情報が必要",
        ],
    ),
    (
        "proofup_desc",
        [
            "Your organization needs more information to keep your account secure",
            "Ihre Organisation benötigt weitere Informationen zum Schutz Ihres Kontos.",
            "Votre organisation a besoin de plus d'informations pour préserver la sécurité de votre compte",
            "ご使用のアカウントを保護するため、組織ではさらに情報が必要です",
        ],
    ),
    (
        "use_another",
        [
            "Use a different account",
            "Anderes Konto verwenden",
            "Utiliser un autre compte",
            "別のアカウントを使用する",
        ],
    ),
    ("redirecting", ["Continue", "Weiter", "Continuer", "続行"]),
    (
        "fido_get_title",
        [
            "Sign in with a security key",
            "Mit einem Sicherheitsschlüssel anmelden",
            "Se connecter avec une clé de sécurité",
            "セキュリティ キーでサインイン",
        ],
    ),
    (
        "fido_get_desc",
        [
            "Follow the instructions in your browser to use your security key.",
            "Folgen Sie den Anweisungen Ihres Browsers, um Ihren Sicherheitsschlüssel zu verwenden.",
            "Suivez les instructions de votre navigateur pour utiliser votre clé de sécurité.",
            "ブラウザーの指示に従ってセキュリティ キーを使用してください。",
        ],
    ),
    (
        "fido_get_error",
        [
            "We couldn't sign you in with this security key.",
            "Wir konnten Sie mit diesem Sicherheitsschlüssel nicht anmelden.",
            "Nous n'avons pas pu vous connecter avec cette clé de sécurité.",
            "このセキュリティ キーではサインインできませんでした。",
        ],
    ),
    (
        "try_again",
        ["Try again", "Erneut versuchen", "Réessayer", "再試行"],
    ),
    (
        "si_title",
        [
            "Security info",
            "Sicherheitsinformationen",
            "Informations de sécurité",
            "セキュリティ情報",
        ],
    ),
    (
        "si_desc",
        [
            "These are the methods you use to sign into your account or reset your password.",
            "Dies sind die Methoden, mit denen Sie sich bei Ihrem Konto anmelden oder Ihr Kennwort zurücksetzen.",
            "Voici les méthodes que vous utilisez pour vous connecter à votre compte ou réinitialiser votre mot de passe.",
            "これらは、アカウントへのサインインやパスワードのリセットに使用する方法です。",
        ],
    ),
    (
        "add_method",
        [
            "Add sign-in method",
            "Anmeldemethode hinzufügen",
            "Ajouter une méthode de connexion",
            "サインイン方法の追加",
        ],
    ),
    (
        "dlg_title",
        [
            "Add a method",
            "Methode hinzufügen",
            "Ajouter une méthode",
            "方法を追加します",
        ],
    ),
    (
        "dlg_which",
        [
            "Which method would you like to add?",
            "Welche Methode möchten Sie hinzufügen?",
            "Quelle méthode voulez-vous ajouter ?",
            "どの方法を追加しますか?",
        ],
    ),
    (
        "choose_method",
        [
            "Choose a method",
            "Methode auswählen",
            "Choisir une méthode",
            "方法を選択します",
        ],
    ),
    (
        "m_security_key",
        [
            "Security key",
            "Sicherheitsschlüssel",
            "Clé de sécurité",
            "セキュリティ キー",
        ],
    ),
    ("m_phone", ["Phone", "Telefon", "Téléphone", "電話"]),
    (
        "m_authenticator",
        [
            "Microsoft Authenticator",
            "Microsoft Authenticator",
            "Microsoft Authenticator",
            "Microsoft Authenticator",
        ],
    ),
    ("m_email", ["Email", "E-Mail", "E-mail", "メール"]),
    (
        "m_password",
        ["Password", "Kennwort", "Mot de passe", "パスワード"],
    ),
    ("add", ["Add", "Hinzufügen", "Ajouter", "追加"]),
    ("cancel", ["Cancel", "Abbrechen", "Annuler", "キャンセル"]),
    ("done", ["Done", "Fertig", "Terminé", "完了"]),
    ("delete", ["Delete", "Löschen", "Supprimer", "削除"]),
    (
        "sk_choose",
        [
            "Choose the type of security key that you have.",
            "Wählen Sie den Typ Ihres Sicherheitsschlüssels aus.",
            "Choisissez le type de clé de sécurité dont vous disposez.",
            "お持ちのセキュリティ キーの種類を選択してください。",
        ],
    ),
    (
        "usb",
        ["USB device", "USB-Gerät", "Appareil USB", "USB デバイス"],
    ),
    (
        "nfc",
        ["NFC device", "NFC-Gerät", "Appareil NFC", "NFC デバイス"],
    ),
    (
        "sk_ready",
        [
            "Have your key ready. When you choose Next, you will be prompted to plug your security key into the USB port. Then touch the button or sensor on your security key to finish setting up.",
            "Halten Sie Ihren Schlüssel bereit. Wenn Sie „Weiter“ auswählen, werden Sie aufgefordert, Ihren Sicherheitsschlüssel an den USB-Anschluss anzuschließen. Berühren Sie dann die Taste oder den Sensor des Schlüssels, um die Einrichtung abzuschließen.",
            "Préparez votre clé. Lorsque vous choisirez Suivant, vous serez invité à brancher votre clé de sécurité sur le port USB. Touchez ensuite le bouton ou le capteur de votre clé pour terminer la configuration.",
            "キーを準備してください。[次へ] を選択すると、セキュリティ キーを USB ポートに差し込むよう求められます。その後、キーのボタンまたはセンサーにタッチしてセットアップを完了します。",
        ],
    ),
    (
        "name_prompt",
        [
            "Name your security key. This will help distinguish it from other keys.",
            "Benennen Sie Ihren Sicherheitsschlüssel. So können Sie ihn von anderen Schlüsseln unterscheiden.",
            "Nommez votre clé de sécurité. Cela vous aidera à la distinguer des autres clés.",
            "セキュリティ キーに名前を付けます。これにより、他のキーと区別しやすくなります。",
        ],
    ),
    ("name_label", ["Name", "Name", "Nom", "名前"]),
    (
        "name_empty",
        [
            "Enter a name for your security key.",
            "Geben Sie einen Namen für Ihren Sicherheitsschlüssel ein.",
            "Entrez un nom pour votre clé de sécurité.",
            "セキュリティ キーの名前を入力してください。",
        ],
    ),
    (
        "all_set",
        [
            "You're all set! You can use your security key instead of a password the next time you sign in.",
            "Fertig! Sie können Ihren Sicherheitsschlüssel bei der nächsten Anmeldung anstelle eines Kennworts verwenden.",
            "Tout est prêt ! Vous pourrez utiliser votre clé de sécurité à la place d'un mot de passe lors de votre prochaine connexion.",
            "準備が整いました。次回のサインインでは、パスワードの代わりにセキュリティ キーを使用できます。",
        ],
    ),
    (
        "limit_reached",
        [
            "You have already reached the limit of 10 security keys. To add another, delete one first.",
            "Sie haben das Limit von 10 Sicherheitsschlüsseln bereits erreicht. Löschen Sie zuerst einen Schlüssel, um einen weiteren hinzuzufügen.",
            "Vous avez déjà atteint la limite de 10 clés de sécurité. Pour en ajouter une autre, supprimez-en d'abord une.",
            "セキュリティ キーの上限 (10 個) に既に達しています。別のキーを追加するには、まず 1 つ削除してください。",
        ],
    ),
    (
        "two_factor",
        [
            "To set up a security key, you need to sign in with two-factor authentication.",
            "Zum Einrichten eines Sicherheitsschlüssels müssen Sie sich mit zweistufiger Authentifizierung anmelden.",
            "Pour configurer une clé de sécurité, vous devez vous connecter avec l'authentification à deux facteurs.",
            "セキュリティ キーを設定するには、2 要素認証でサインインする必要があります。",
        ],
    ),
    (
        "reg_rejected",
        [
            "We couldn't add your security key. It doesn't meet your organization's security key requirements. Contact your admin.",
            "Ihr Sicherheitsschlüssel konnte nicht hinzugefügt werden. Er erfüllt nicht die Anforderungen Ihrer Organisation. Wenden Sie sich an Ihren Administrator.",
            "Nous n'avons pas pu ajouter votre clé de sécurité. Elle ne répond pas aux exigences de votre organisation. Contactez votre administrateur.",
            "セキュリティ キーを追加できませんでした。組織のセキュリティ キー要件を満たしていません。管理者に問い合わせてください。",
        ],
    ),
    (
        "reg_failed",
        [
            "Something went wrong while setting up your security key. Try again.",
            "Beim Einrichten Ihres Sicherheitsschlüssels ist ein Fehler aufgetreten. Versuchen Sie es erneut.",
            "Un problème est survenu lors de la configuration de votre clé de sécurité. Réessayez.",
            "セキュリティ キーの設定中に問題が発生しました。もう一度お試しください。",
        ],
    ),
    (
        "policy_disabled",
        [
            "Your organization doesn't allow you to add security keys.",
            "Ihre Organisation erlaubt das Hinzufügen von Sicherheitsschlüsseln nicht.",
            "Votre organisation ne vous permet pas d'ajouter des clés de sécurité.",
            "組織では、セキュリティ キーの追加が許可されていません。",
        ],
    ),
    (
        "generic_error",
        [
            "Something went wrong. Please try again later.",
            "Es ist ein Fehler aufgetreten. Versuchen Sie es später erneut.",
            "Un problème est survenu. Réessayez plus tard.",
            "問題が発生しました。後でもう一度お試しください。",
        ],
    ),
    (
        "no_methods",
        [
            "No items to display.",
            "Keine Elemente vorhanden.",
            "Aucun élément à afficher.",
            "表示する項目がありません。",
        ],
    ),
    (
        "loading",
        ["Loading…", "Wird geladen…", "Chargement…", "読み込み中…"],
    ),
    (
        "fido_create_title",
        [
            "Setting up your security key",
            "Sicherheitsschlüssel wird eingerichtet",
            "Configuration de votre clé de sécurité",
            "セキュリティ キーを設定しています",
        ],
    ),
    (
        "fido_create_desc",
        [
            "Follow the prompts from your browser to finish setting up your security key.",
            "Folgen Sie den Anweisungen Ihres Browsers, um die Einrichtung abzuschließen.",
            "Suivez les invites de votre navigateur pour terminer la configuration.",
            "ブラウザーの指示に従ってセットアップを完了してください。",
        ],
    ),
    (
        "fido_create_error",
        [
            "Security key setup didn't finish. Close this window and try again.",
            "Die Einrichtung des Sicherheitsschlüssels wurde nicht abgeschlossen. Schließen Sie dieses Fenster, und versuchen Sie es erneut.",
            "La configuration de la clé de sécurité n'a pas abouti. Fermez cette fenêtre et réessayez.",
            "セキュリティ キーのセットアップが完了しませんでした。このウィンドウを閉じて、もう一度お試しください。",
        ],
    ),
    (
        "consent_title",
        [
            "Permissions requested",
            "Angeforderte Berechtigungen",
            "Autorisations demandées",
            "要求されているアクセス許可",
        ],
    ),
    (
        "consent_desc",
        [
            "This app would like to:",
            "Diese App möchte Folgendes:",
            "Cette application souhaite :",
            "このアプリは次のことを求めています:",
        ],
    ),
    (
        "consent_org",
        [
            "Consent on behalf of your organization",
            "Im Namen Ihrer Organisation zustimmen",
            "Donner le consentement au nom de votre organisation",
            "組織の代理として同意する",
        ],
    ),
    ("accept", ["Accept", "Akzeptieren", "Accepter", "承諾"]),
    (
        "need_admin",
        [
            "Need admin approval",
            "Administratorgenehmigung erforderlich",
            "Approbation de l'administrateur nécessaire",
            "管理者の承認が必要",
        ],
    ),
    (
        "page_error",
        [
            "Sorry, but we're having trouble signing you in.",
            "Bei Ihrer Anmeldung ist leider ein Problem aufgetreten.",
            "Désolé, nous rencontrons des difficultés pour vous connecter.",
            "申し訳ございませんが、サインインで問題が発生しました。",
        ],
    ),
    (
        "sign_out",
        ["Sign out", "Abmelden", "Se déconnecter", "サインアウト"],
    ),
];

/// The text for `key` in `lang` (one of en/de/fr/ja; anything else is English).
/// Unknown keys return the key itself, so a missing entry shows up on the page.
pub fn t(lang: &str, key: &'static str) -> &'static str {
    let i = match lang {
        "de" => 1,
        "fr" => 2,
        "ja" => 3,
        _ => 0,
    };
    TEXTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v[i])
        .unwrap_or(key)
}

/// The whole table for one language, for client-rendered pages.
pub fn table(lang: &str) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = TEXTS
        .iter()
        .map(|(k, _)| (k.to_string(), serde_json::Value::from(t(lang, k))))
        .collect();
    serde_json::Value::Object(map)
}

/// BCP 47 tag and Windows LCID, for `$Config.locale`.
pub fn mkt(lang: &str) -> (&'static str, u32) {
    match lang {
        "de" => ("de-DE", 1031),
        "fr" => ("fr-FR", 1036),
        "ja" => ("ja-JP", 1041),
        _ => ("en-US", 1033),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_translated_and_unique() {
        let mut keys = std::collections::HashSet::new();
        for (k, v) in TEXTS {
            assert!(keys.insert(*k), "duplicate key {k}");
            for s in v {
                assert!(!s.is_empty(), "{k} has an empty translation");
            }
        }
    }
}
