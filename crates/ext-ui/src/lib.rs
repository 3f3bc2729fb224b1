//! The extension's own pages. Each page's HTML (in `extension/`) holds the
//! static structure with ids; these functions fill it in and wire its buttons.
//! Everything user-visible is set with `textContent`, never parsed as HTML.

mod dom;
mod options;
mod popup;

pub use options::options_main;
pub use popup::popup_main;
