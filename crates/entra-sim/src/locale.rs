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
            "You have already reached the limit of {limit} security keys. To add another, delete one first.",
            "Sie haben das Limit von {limit} Sicherheitsschlüsseln bereits erreicht. Löschen Sie zuerst einen Schlüssel, um einen weiteren hinzuzufügen.",
            "Vous avez déjà atteint la limite de {limit} clés de sécurité. Pour en ajouter une autre, supprimez-en d'abord une.",
            "セキュリティ キーの上限 ({limit} 個) に既に達しています。別のキーを追加するには、まず 1 つ削除してください。",
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
    (
        "challenge_expired",
        [
            "The security key challenge has expired. Start again.",
            "Die Sicherheitsschlüssel-Anforderung ist abgelaufen. Beginnen Sie erneut.",
            "La demande de clé de sécurité a expiré. Recommencez.",
            "セキュリティ キーのチャレンジの有効期限が切れました。最初からやり直してください。",
        ],
    ),
    (
        "key_already_registered",
        [
            "This security key is already registered.",
            "Dieser Sicherheitsschlüssel ist bereits registriert.",
            "Cette clé de sécurité est déjà inscrite.",
            "このセキュリティ キーは既に登録されています。",
        ],
    ),
    (
        "err_reg_used",
        [
            "This registration request was used already or has expired.",
            "Diese Registrierungsanforderung wurde bereits verwendet oder ist abgelaufen.",
            "Cette demande d'inscription a déjà été utilisée ou a expiré.",
            "この登録要求は既に使用されたか、有効期限が切れています。",
        ],
    ),
    (
        "working",
        [
            "Working...",
            "Wird ausgeführt...",
            "Traitement en cours...",
            "処理しています...",
        ],
    ),
    (
        "noscript",
        [
            "Script is disabled. Click Submit to continue.",
            "Skripts sind deaktiviert. Klicken Sie auf „Senden“, um fortzufahren.",
            "Les scripts sont désactivés. Cliquez sur Envoyer pour continuer.",
            "スクリプトが無効になっています。続行するには [送信] をクリックしてください。",
        ],
    ),
    (
        "signed_out_title",
        [
            "Signed out",
            "Abgemeldet",
            "Déconnecté",
            "サインアウトしました",
        ],
    ),
    (
        "signed_out_desc",
        [
            "You signed out of your account.",
            "Sie haben sich von Ihrem Konto abgemeldet.",
            "Vous vous êtes déconnecté de votre compte.",
            "アカウントからサインアウトしました。",
        ],
    ),
    (
        "err_no_page",
        [
            "The requested page does not exist.",
            "Die angeforderte Seite ist nicht vorhanden.",
            "La page demandée n'existe pas.",
            "要求されたページは存在しません。",
        ],
    ),
    (
        "err_tenant",
        [
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
            "Der Mandant „{tenant}“ wurde nicht gefunden. Vergewissern Sie sich, dass Sie die richtige Mandanten-ID verwenden und sich bei der richtigen Cloud anmelden.",
            "Locataire « {tenant} » introuvable. Vérifiez que l'ID de locataire est correct et que vous vous connectez au bon cloud.",
            "テナント '{tenant}' が見つかりません。テナント ID が正しいこと、正しいクラウドにサインインしていることを確認してください。",
        ],
    ),
    (
        "err_no_client_id",
        [
            "The request body must contain the following parameter: 'client_id'.",
            "Der Anforderungstext muss den folgenden Parameter enthalten: „client_id“.",
            "Le corps de la demande doit contenir le paramètre suivant : « client_id ».",
            "要求本文には次のパラメーターが含まれている必要があります: 'client_id'。",
        ],
    ),
    (
        "err_response_type",
        [
            "response_type 'id_token' is not enabled for the application.",
            "response_type „id_token“ ist für die Anwendung nicht aktiviert.",
            "response_type « id_token » n'est pas activé pour l'application.",
            "アプリケーションでは response_type 'id_token' が有効になっていません。",
        ],
    ),
    (
        "err_redirect_uri",
        [
            "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{client}'.",
            "Der in der Anforderung angegebene Umleitungs-URI „{uri}“ stimmt nicht mit den für die Anwendung „{client}“ konfigurierten Umleitungs-URIs überein.",
            "L'URI de redirection « {uri} » spécifié dans la demande ne correspond pas aux URI de redirection configurés pour l'application « {client} ».",
            "要求で指定されたリダイレクト URI '{uri}' が、アプリケーション '{client}' に構成されたリダイレクト URI と一致しません。",
        ],
    ),
    (
        "err_unknown_app",
        [
            "Application with identifier '{client}' was not found in the directory '{tenant}'.",
            "Die Anwendung mit dem Bezeichner „{client}“ wurde im Verzeichnis „{tenant}“ nicht gefunden.",
            "L'application avec l'identificateur « {client} » est introuvable dans le répertoire « {tenant} ».",
            "識別子 '{client}' のアプリケーションがディレクトリ '{tenant}' に見つかりませんでした。",
        ],
    ),
    (
        "err_pkce_method",
        [
            "Invalid code_challenge_method; only S256 is supported.",
            "Ungültige code_challenge_method; nur S256 wird unterstützt.",
            "code_challenge_method non valide ; seule S256 est prise en charge.",
            "code_challenge_method が無効です。S256 のみがサポートされています。",
        ],
    ),
    (
        "err_flow_expired",
        [
            "Your sign-in session has expired or is unknown. Go back to the application and sign in again.",
            "Ihre Anmeldesitzung ist abgelaufen oder unbekannt. Kehren Sie zur Anwendung zurück, und melden Sie sich erneut an.",
            "Votre session de connexion a expiré ou est inconnue. Revenez à l'application et reconnectez-vous.",
            "サインイン セッションの有効期限が切れているか、不明です。アプリケーションに戻って、もう一度サインインしてください。",
        ],
    ),
    (
        "err_no_flow_token",
        [
            "The required field 'flowToken' is missing from the request.",
            "Das erforderliche Feld „flowToken“ fehlt in der Anforderung.",
            "Le champ obligatoire « flowToken » est absent de la demande.",
            "必須フィールド 'flowToken' が要求にありません。",
        ],
    ),
    (
        "err_fido_no_challenge",
        [
            "No security key challenge is pending for this sign-in; it was used already or never issued.",
            "Für diese Anmeldung steht keine Sicherheitsschlüssel-Anforderung aus; sie wurde bereits verwendet oder nie ausgestellt.",
            "Aucune demande de clé de sécurité n'est en attente pour cette connexion ; elle a déjà été utilisée ou n'a jamais été émise.",
            "このサインインには保留中のセキュリティ キーのチャレンジがありません。既に使用されたか、発行されていません。",
        ],
    ),
    (
        "err_fido_expired",
        [
            "The security key challenge has expired.",
            "Die Sicherheitsschlüssel-Anforderung ist abgelaufen.",
            "La demande de clé de sécurité a expiré.",
            "セキュリティ キーのチャレンジの有効期限が切れました。",
        ],
    ),
    (
        "err_fido_incomplete",
        [
            "The security key response is incomplete: credentialId, clientDataJSON, authenticatorData and signature are required (base64url).",
            "Die Antwort des Sicherheitsschlüssels ist unvollständig: credentialId, clientDataJSON, authenticatorData und signature sind erforderlich (base64url).",
            "La réponse de la clé de sécurité est incomplète : credentialId, clientDataJSON, authenticatorData et signature sont obligatoires (base64url).",
            "セキュリティ キーの応答が不完全です: credentialId、clientDataJSON、authenticatorData、signature が必要です (base64url)。",
        ],
    ),
    (
        "err_fido_unknown_key",
        [
            "The security key is not registered for any user in this tenant.",
            "Der Sicherheitsschlüssel ist für keinen Benutzer in diesem Mandanten registriert.",
            "La clé de sécurité n'est inscrite pour aucun utilisateur de ce locataire.",
            "このセキュリティ キーは、このテナントのどのユーザーにも登録されていません。",
        ],
    ),
    (
        "err_fido_other_user",
        [
            "The security key belongs to a different user than the one signing in.",
            "Der Sicherheitsschlüssel gehört einem anderen Benutzer als dem, der sich anmeldet.",
            "La clé de sécurité appartient à un autre utilisateur que celui qui se connecte.",
            "このセキュリティ キーは、サインインしているユーザーとは別のユーザーのものです。",
        ],
    ),
    (
        "err_fido_handle",
        [
            "The user handle of the security key does not match its owner.",
            "Das Benutzerhandle des Sicherheitsschlüssels passt nicht zu seinem Besitzer.",
            "L'identifiant utilisateur de la clé de sécurité ne correspond pas à son propriétaire.",
            "セキュリティ キーのユーザー ハンドルが所有者と一致しません。",
        ],
    ),
    (
        "err_signin_failed",
        [
            "Sign-in failed: {error}",
            "Anmeldung fehlgeschlagen: {error}",
            "Échec de la connexion : {error}",
            "サインインに失敗しました: {error}",
        ],
    ),
    (
        "err_no_code",
        [
            "The sign-in response has no 'code'.",
            "Die Anmeldeantwort enthält keinen „code“.",
            "La réponse de connexion ne contient pas de « code ».",
            "サインインの応答に 'code' がありません。",
        ],
    ),
    (
        "err_code_used",
        [
            "The authorization code was already redeemed or is unknown.",
            "Der Autorisierungscode wurde bereits eingelöst oder ist unbekannt.",
            "Le code d'autorisation a déjà été utilisé ou est inconnu.",
            "承認コードは既に使用されたか、不明です。",
        ],
    ),
    (
        "err_code_expired",
        [
            "The provided authorization code has expired or was issued to another application.",
            "Der angegebene Autorisierungscode ist abgelaufen oder wurde für eine andere Anwendung ausgestellt.",
            "Le code d'autorisation fourni a expiré ou a été émis pour une autre application.",
            "指定された承認コードは有効期限が切れているか、別のアプリケーションに発行されたものです。",
        ],
    ),
    (
        "err_fido_create_get",
        [
            "This page is opened by Security info with a form post; it cannot be loaded directly.",
            "Diese Seite wird von den Sicherheitsinformationen per Formularübermittlung geöffnet; sie kann nicht direkt geladen werden.",
            "Cette page est ouverte par les informations de sécurité via un envoi de formulaire ; elle ne peut pas être chargée directement.",
            "このページはセキュリティ情報からフォーム送信で開かれます。直接読み込むことはできません。",
        ],
    ),
    (
        "err_canary_unknown",
        [
            "The security key registration request is unknown or has expired (canary).",
            "Die Registrierungsanforderung für den Sicherheitsschlüssel ist unbekannt oder abgelaufen (canary).",
            "La demande d'inscription de la clé de sécurité est inconnue ou a expiré (canary).",
            "セキュリティ キーの登録要求が不明か、有効期限が切れています (canary)。",
        ],
    ),
    (
        "err_reg_user_gone",
        [
            "The user of this registration no longer exists.",
            "Der Benutzer dieser Registrierung existiert nicht mehr.",
            "L'utilisateur de cette inscription n'existe plus.",
            "この登録のユーザーはもう存在しません。",
        ],
    ),
    (
        "err_challenge_mismatch",
        [
            "The serverChallenge does not belong to this registration.",
            "Die serverChallenge gehört nicht zu dieser Registrierung.",
            "Le serverChallenge n'appartient pas à cette inscription.",
            "serverChallenge はこの登録のものではありません。",
        ],
    ),
    (
        "err_postback",
        [
            "The postBackUrl is not an allowed Security info address.",
            "Die postBackUrl ist keine zulässige Adresse der Sicherheitsinformationen.",
            "Le postBackUrl n'est pas une adresse autorisée des informations de sécurité.",
            "postBackUrl は許可されたセキュリティ情報のアドレスではありません。",
        ],
    ),
    (
        "err_newfido_malformed",
        [
            "credentialId, clientDataJson and attestationObject must be non-empty base64url.",
            "credentialId, clientDataJson und attestationObject müssen nicht leeres base64url sein.",
            "credentialId, clientDataJson et attestationObject doivent être en base64url non vide.",
            "credentialId、clientDataJson、attestationObject は空でない base64url である必要があります。",
        ],
    ),
    (
        "err_need_admin",
        [
            "{app} needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.",
            "{app} benötigt die Berechtigung für den Zugriff auf Ressourcen in Ihrer Organisation, die nur ein Administrator erteilen kann. Bitten Sie einen Administrator, dieser App die Berechtigung zu erteilen, bevor Sie sie verwenden.",
            "{app} a besoin d'une autorisation d'accès aux ressources de votre organisation que seul un administrateur peut accorder. Demandez à un administrateur d'accorder l'autorisation à cette application avant de pouvoir l'utiliser.",
            "{app} には、管理者のみが付与できる、組織内のリソースへのアクセス許可が必要です。このアプリを使用する前に、管理者にアクセス許可の付与を依頼してください。",
        ],
    ),
    (
        "err_transient",
        [
            "A transient error has occurred. Please try again.",
            "Ein vorübergehender Fehler ist aufgetreten. Versuchen Sie es erneut.",
            "Une erreur temporaire s'est produite. Réessayez.",
            "一時的なエラーが発生しました。もう一度お試しください。",
        ],
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
