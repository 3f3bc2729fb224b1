//! Extension → panel: what the service worker sends the panel's HTTP
//! endpoints while it runs a job.
//!
//! Two calls, both `POST` with `Authorization: Bearer <token>` where the token
//! is the per-request secret the panel put in [`crate::panel::Provision`]:
//!
//! * the attestation endpoint ([`AttestationRequest`] → the vault's
//!   `RegistrationResponseJSON`): one `navigator.credentials.create` for the
//!   running request's user;
//! * the report endpoint ([`JobReport`] → `204`): progress and the final
//!   result. Reports are idempotent by (`requestId`, `seq`), so the extension
//!   may re-send one the panel did not acknowledge.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Asks the panel's vault to answer one `navigator.credentials.create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttestationRequest {
    pub request_id: String,
    /// The origin of the page that called `create`, as the *extension* saw it
    /// (never as the page claims it).
    pub origin: String,
    /// `PublicKeyCredentialCreationOptionsJSON`, as the page passed it
    /// (challenge and ids base64url).
    pub public_key: Value,
}

/// The state of a job, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The wire name (`"succeeded"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One progress or final report for a provisioning request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReport {
    pub request_id: String,
    /// Increases with every report of the request; the panel ignores a report
    /// whose `seq` it has already seen.
    pub seq: u32,
    pub state: JobState,
    /// The step running now or, in a final report, the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// 0.0 to 1.0.
    #[serde(default)]
    pub progress: f32,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ProvisionedKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// The security key Microsoft accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedKey {
    /// base64url, as in the WebAuthn response.
    pub credential_id: String,
    /// The name given on Security info.
    pub key_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<String>,
    /// Whether the job signed in with the new key afterwards (only when the
    /// panel gave an assertion URL).
    #[serde(default)]
    pub sign_in_verified: bool,
}

/// Why a job failed: a stable code, a plain-language message and a hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_report_wire_shape() {
        let r = JobReport {
            request_id: "r1".into(),
            seq: 7,
            state: JobState::Failed,
            step: Some("signIn.accessPass".into()),
            progress: 0.3,
            at_ms: 1,
            result: None,
            error: Some(JobError {
                code: "tapNotFound".into(),
                message: "The Temporary Access Pass was not accepted".into(),
                hint: None,
            }),
        };
        let v = serde_json::to_value(&r).expect("serializes");
        assert_eq!(v["requestId"], "r1");
        assert_eq!(v["state"], "failed");
        assert_eq!(v["error"]["code"], "tapNotFound");
        assert!(v.get("result").is_none());
        assert_eq!(serde_json::from_value::<JobReport>(v).expect("parses"), r);
    }

    #[test]
    fn attestation_request_refuses_unknown_fields() {
        let bad = serde_json::json!({"requestId":"r","origin":"https://login.microsoft.com",
            "publicKey":{}, "userId":"someone-else"});
        assert!(serde_json::from_value::<AttestationRequest>(bad).is_err());
    }
}
