//! Text chat between two Duet pages over a data channel of the call (issue 14), plain Rust
//! but for the panel:
//! - [`rules`]: the sans-IO chat ([`Chat`]): what may be sent, what is accepted, the call's
//!   history, the unread count, whether the other page has a chat at all;
//! - [`frame`]: the channel's frames;
//! - [`panel`]: the components.
//!
//! The call machine holds the [`Chat`] as a part: the channel's events are link inputs, its
//! frames are `SendChat` actions, and it lives for the call (a rejoin starts a fresh one). In
//! the release bundle this code loads after the first frame (`crate::call::PartsCode`). The
//! channel itself is made with the peer link (`crate::peer`).

pub mod frame;
pub mod panel;
pub mod rules;

pub use rules::{Author, Availability, Chat, ChatError, ChatInput, Entry};
