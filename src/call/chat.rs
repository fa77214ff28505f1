//! What the page shows of the chat, a part of the call machine: the link's chat channel and
//! the user feed the [`crate::chat::Chat`], its frames become `Action::SendChat`, its deadline
//! (the other page's hello) joins the machine's. It lives for the call: a fresh link closes the
//! old channel but keeps the history; a rejoin starts a fresh chat. Its code is in
//! [`super::parts`].

use crate::chat::Entry;

/// What the page shows of the chat ([`super::Machine::show_chat`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatView {
    /// The call's history, oldest first.
    pub entries: Vec<Entry>,
    /// Messages from the other person while the panel was closed.
    pub unread: usize,
    /// Whether the other page has a chat (`None` before it is known).
    pub available: Option<bool>,
    /// The panel is open.
    pub panel: bool,
    /// Why the last message was not sent (the text stays in the box).
    pub error: Option<String>,
    /// How many messages this page sent (the box empties when it grows).
    pub sent: u64,
}
