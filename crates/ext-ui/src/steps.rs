//! Plain-language wording for the step names the worker reports
//! (`engine::Step::name`, e.g. `"signIn.accessPass"`), for the popup and the
//! logs page. Pure; tested natively.

use engine::Step;

/// Every engine step. The `match` in [`wording_of`] is exhaustive, so a new
/// step fails to compile there; add it here too (the test below checks that
/// each step in this list is found by its name).
const ALL: &[Step] = &[
    Step::Open,
    Step::Username,
    Step::AccessPass,
    Step::StaySignedIn,
    Step::Interrupt,
    Step::SecurityInfo,
    Step::AddMethod,
    Step::UsbDevice,
    Step::KeyReady,
    Step::Register,
    Step::NameKey,
    Step::Finish,
    Step::Confirm,
    Step::VerifySignIn,
    Step::Watch,
];

fn wording_of(step: Step) -> &'static str {
    match step {
        Step::Open => "Opening a private window",
        Step::Username => "Entering the user name",
        Step::AccessPass => "Signing in with the Temporary Access Pass",
        Step::StaySignedIn => "Answering \u{201c}Stay signed in?\u{201d}",
        Step::Interrupt => "Skipping a prompt Microsoft showed after sign-in",
        Step::SecurityInfo => "Opening Security info",
        Step::AddMethod => "Adding a sign-in method",
        Step::UsbDevice => "Choosing a USB security key",
        Step::KeyReady => "Getting the security key ready",
        Step::Register => "Registering the passkey",
        Step::NameKey => "Naming the key",
        Step::Finish => "Finishing the registration",
        Step::Confirm => "Checking that the key is listed",
        Step::VerifySignIn => "Signing in with the new key",
        Step::Watch => "Waiting for you to finish in the private window",
    }
}

/// The wording for a reported step name. Names this version does not know
/// (a newer worker, the self-test) are shown as they are, so nothing is
/// hidden.
pub fn wording(name: &str) -> String {
    if let Some(step) = ALL.iter().find(|s| s.name() == name) {
        return wording_of(*step).to_string();
    }
    if let Some(n) = name.strip_prefix("securityInfo.tryAgain#") {
        return format!("Pressing \u{201c}Try again\u{201d} after a Microsoft error (try {n})");
    }
    match name {
        "selfTest.actuatorReport" => "Running the self-test".to_string(),
        "" => "Starting".to_string(),
        other => format!("Step \u{201c}{other}\u{201d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_steps_have_plain_wording() {
        for (name, want) in [
            ("open", "Opening a private window"),
            (
                "signIn.accessPass",
                "Signing in with the Temporary Access Pass",
            ),
            ("register.webauthn", "Registering the passkey"),
            ("confirm.listed", "Checking that the key is listed"),
            ("selfTest.actuatorReport", "Running the self-test"),
        ] {
            assert_eq!(wording(name), want, "{name}");
        }
    }

    #[test]
    fn every_engine_step_is_worded() {
        for step in ALL {
            let w = wording(step.name());
            assert!(!w.starts_with("Step "), "{} has no wording", step.name());
        }
        // ALL holds each step once (a copy-paste slip would hide one).
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn unknown_names_are_shown_not_hidden() {
        assert_eq!(wording("future.step"), "Step \u{201c}future.step\u{201d}");
        assert_eq!(wording(""), "Starting");
    }
}
