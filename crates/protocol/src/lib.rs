//! The wire types every part of the product speaks.
//!
//! * [`panel`]: what an admin panel page sends the extension through
//!   `chrome.runtime.sendMessage(extensionId, ...)` and what it gets back.
//! * [`actuator`]: what the in-page actuator reports and is told to do.
//! * [`report`]: what the extension sends the panel while a job runs.
//! * [`origin`]: which panel origins the extension accepts.
//! * [`settings`]: the administrator's settings, shared by worker and Options.
//!
//! Every message is a JSON object with one tag field, `type`. Parsing is
//! strict: an unknown `type`, an unknown field or an oversized message is a
//! specific [`panel::Refusal`], never a silent default. `docs/protocol.md`
//! documents the same shapes for people writing a panel.

pub mod actuator;
pub mod logbook;
pub mod origin;
pub mod panel;
pub mod report;
pub mod settings;

/// Version of the panel ⇄ extension protocol. Bumped on any incompatible
/// change; a panel compares it with the `protocolVersion` in `pong`.
pub const PROTOCOL_VERSION: u32 = 1;
