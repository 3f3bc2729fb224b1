//! The extension's own pages. Each page's HTML (in `extension/`) holds the
//! static structure with ids; these functions fill it in and wire its buttons.
//! Everything user-visible is set with `textContent`, never parsed as HTML.
//!
//! What to show is decided by pure functions tested natively
//! ([`steps`], [`format`], [`logview`], [`settings_form`], and
//! [`popup::job_view`]); the page modules only move data between them and
//! the DOM.

mod chrome;
mod dom;
pub mod format;
mod logs;
pub mod logview;
mod options;
pub mod popup;
pub mod settings_form;
pub mod steps;

pub use logs::logs_main;
pub use options::options_main;
pub use popup::popup_main;
