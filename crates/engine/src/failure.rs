//! Every way a job can fail, as seen in the field (DESIGN.md, "Failure
//! taxonomy"). Each variant has a stable [`Failure::code`] for programs, a
//! plain-language `Display` for the Show Logs page and the panel, and a
//! [`Failure::hint`] saying what the administrator can do. None of them ever
//! carries a TAP, a token or key material.

use protocol::report::JobError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "code", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Failure {
    #[error(
        "Microsoft did not accept the Temporary Access Pass: it could not be found or verified for {upn}"
    )]
    TapNotFound { upn: String },
    #[error(
        "The Temporary Access Pass for {upn} was still not usable after {waited_s} s: Microsoft kept showing the password page"
    )]
    TapNotPropagated { upn: String, waited_s: u64 },
    #[error("Microsoft does not know the user {upn}")]
    UnknownUser { upn: String },
    #[error(
        "Microsoft asks {upn} for more information before sign-in completes (\"Your organization needs more information\")"
    )]
    ProofUpRequired { upn: String },
    #[error("{upn} already has 10 security keys, Microsoft's limit")]
    KeyLimitReached { upn: String },
    #[error("Microsoft requires two-factor sign-in before a security key can be added for {upn}")]
    TwoFactorRequired { upn: String },
    #[error(
        "Security keys (FIDO2) are not allowed for {upn} by the tenant's authentication methods policy"
    )]
    PolicyDisallows { upn: String },
    #[error("Microsoft rejected the security key's attestation: {detail}")]
    AttestationRejected { detail: String },
    #[error("The security key setup page reported an error: {detail}")]
    RegistrationFailed { detail: String },
    #[error("Microsoft's sign-in page reported an error: {detail}")]
    SignInError { detail: String },
    #[error("Microsoft's server failed ({detail})")]
    ServerError { detail: String },
    #[error("Unknown page at {summary}")]
    UnknownPage { summary: String },
    #[error("The panel's vault refused the request: {detail}")]
    VaultFailed { detail: String },
    #[error("The admin panel could not be reached for the vault's answer: {detail}")]
    VaultUnreachable { detail: String },
    #[error("{upn} already has this vault's security key registered with Microsoft")]
    AlreadyRegistered { upn: String },
    #[error("The job was cancelled by the administrator ({how})")]
    Cancelled { how: String },
    #[error("Step {step} did not finish within {timeout_s} s (last page: {summary})")]
    StepTimeout {
        step: String,
        timeout_s: u64,
        summary: String,
    },
    #[error(
        "The browser stopped the extension mid-job and the job could not be resumed at step {step}"
    )]
    Interrupted { step: String },
    #[error("The key was registered but did not appear on Security info (expected {key_name})")]
    NotListed { key_name: String },
    #[error("The key {key_name} is registered, but signing in with it failed: {detail}")]
    SignInCheckFailed { key_name: String, detail: String },
}

impl Failure {
    /// Stable machine-readable code (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TapNotFound { .. } => "tapNotFound",
            Self::TapNotPropagated { .. } => "tapNotPropagated",
            Self::UnknownUser { .. } => "unknownUser",
            Self::ProofUpRequired { .. } => "proofUpRequired",
            Self::KeyLimitReached { .. } => "keyLimitReached",
            Self::TwoFactorRequired { .. } => "twoFactorRequired",
            Self::PolicyDisallows { .. } => "policyDisallows",
            Self::AttestationRejected { .. } => "attestationRejected",
            Self::RegistrationFailed { .. } => "registrationFailed",
            Self::SignInError { .. } => "signInError",
            Self::ServerError { .. } => "serverError",
            Self::UnknownPage { .. } => "unknownPage",
            Self::VaultFailed { .. } => "vaultFailed",
            Self::VaultUnreachable { .. } => "vaultUnreachable",
            Self::AlreadyRegistered { .. } => "alreadyRegistered",
            Self::Cancelled { .. } => "cancelled",
            Self::StepTimeout { .. } => "stepTimeout",
            Self::Interrupted { .. } => "interrupted",
            Self::NotListed { .. } => "notListed",
            Self::SignInCheckFailed { .. } => "signInCheckFailed",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::TapNotFound { .. } => {
                "Issue a new Temporary Access Pass (the old one may be used, expired or deleted) and run the job again."
            }
            Self::TapNotPropagated { .. } => {
                "A new pass can take a few minutes to reach every Microsoft server. Run the job again in a few minutes."
            }
            Self::UnknownUser { .. } => {
                "Check the user's UPN in Entra ID and re-sync the users in the panel."
            }
            Self::ProofUpRequired { .. } => {
                "Exclude the user from the registration campaign or MFA registration policy while provisioning, or register the required method first."
            }
            Self::KeyLimitReached { .. } => {
                "Delete an unused security key of the user (panel: Passkeys tab, or Entra admin center) and run the job again."
            }
            Self::TwoFactorRequired { .. } => {
                "Use a Temporary Access Pass (it counts as multi-factor) instead of a password, or allow FIDO2 registration with the current sign-in."
            }
            Self::PolicyDisallows { .. } => {
                "In Entra admin center → Authentication methods → Passkey (FIDO2), enable it for a group that includes the user."
            }
            Self::AttestationRejected { .. } => {
                "The tenant enforces attestation or restricts key models: add the vault's AAGUID to the allowed list, or configure the vault with an attestation certificate the tenant trusts."
            }
            Self::RegistrationFailed { .. } => {
                "Run the job again; if it keeps failing, run it visible (Options) and look at the page."
            }
            Self::SignInError { .. } => {
                "Read Microsoft's message in the log entry; it usually names the fix."
            }
            Self::ServerError { .. } => "Microsoft's service failed; run the job again later.",
            Self::UnknownPage { .. } => {
                "Microsoft may have changed the page. The log entry holds what the page showed; report it so the page can be recognised."
            }
            Self::VaultFailed { .. } => {
                "The panel refused to sign for this request (see its message); check the request in the panel and run it again."
            }
            Self::VaultUnreachable { .. } => {
                "Check that the admin panel is running and reachable from this browser."
            }
            Self::AlreadyRegistered { .. } => {
                "The user's vault key is already registered. Revoke it in the panel (Passkeys tab) to register a new one, or keep the existing one."
            }
            Self::Cancelled { .. } => "Start the job again when ready.",
            Self::StepTimeout { .. } => {
                "Check the network and that the Microsoft pages load in a private window; raise the step timeout in Options for slow networks."
            }
            Self::Interrupted { .. } => "Run the job again.",
            Self::NotListed { .. } => {
                "Open Security info for the user and check the keys; run the job again if the key is missing."
            }
            Self::SignInCheckFailed { .. } => {
                "Check the tenant's passkey policy (allowed AAGUIDs, attestation) and the key's status in Entra; revoke the key and run the job again if it stays unusable."
            }
        }
    }

    /// The report form sent to the panel and kept in the log.
    pub fn to_job_error(&self) -> JobError {
        JobError {
            code: self.code().to_string(),
            message: self.to_string(),
            hint: Some(self.hint().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_matches_serde_tag() {
        let cases = [
            Failure::TapNotFound { upn: "a@b".into() },
            Failure::StepTimeout {
                step: "signIn.username".into(),
                timeout_s: 30,
                summary: "x".into(),
            },
            Failure::Cancelled {
                how: "window closed".into(),
            },
        ];
        for f in cases {
            let v = serde_json::to_value(&f).expect("serializes");
            assert_eq!(v["code"], f.code());
            assert!(!f.hint().is_empty());
        }
    }
}
