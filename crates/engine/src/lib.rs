//! The provisioning engine.
//!
//! The service worker feeds it what the in-page actuator saw
//! ([`protocol::actuator::Snapshot`]) and carries out what it answers. It has
//! no browser dependency, so every decision is unit-tested natively on
//! snapshot fixtures.
//!
//! * [`page`] recognises a page: stable attributes (ids, names, input types,
//!   roles, URL paths) first, localised text ([`locale`]) only as a fallback.
//! * [`job`] holds a job's state and decides the next [`job::Decision`].
//! * [`failure`] is the failure taxonomy: every way a job can end badly, each
//!   with a stable code, a plain message and a hint.
//! * [`naming`] makes key names from a template.

pub mod failure;
pub mod job;
pub mod locale;
pub mod naming;
pub mod page;
pub mod view;

pub use failure::Failure;
pub use job::{Command, Decision, Job, Step, Timeouts, TypedValue};
pub use page::Page;
