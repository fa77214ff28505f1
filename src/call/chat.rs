//! The chat as a part of the call machine: the link's chat channel and the user feed the
//! [`Chat`] (crate::chat), its frames become [`Action::SendChat`], its deadline (the other
//! page's hello) joins the machine's. It lives for the call: a fresh link closes the old
//! channel but keeps the history; a rejoin starts a fresh chat.

use std::time::Duration;

use super::io::{Action, ChannelEvent};
use super::machine::Machine;
use crate::chat::{Availability, ChatInput, Entry};

/// What the page shows of the chat ([`Machine::chat_view`]).
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

impl Machine {
    /// Feeds the chat and queues its frames.
    pub(super) fn chat(&mut self, input: ChatInput<'_>, now: Duration) {
        self.chat.handle(input, now);
        self.take_chat_frames();
    }

    pub(super) fn take_chat_frames(&mut self) {
        while let Some(frame) = self.chat.poll_send() {
            self.act(Action::SendChat(frame));
        }
    }

    /// The user's message: sent, or the reason it was not.
    pub(super) fn send_chat(&mut self, text: &str) {
        match self.chat.send(text) {
            Ok(()) => {
                self.chat_error = None;
                self.chat_sent += 1;
            }
            Err(e) => self.chat_error = Some(e.to_string()),
        }
        self.take_chat_frames();
    }

    /// The chat channel of the current link.
    pub(super) fn on_channel(&mut self, event: ChannelEvent, now: Duration) {
        let input = match &event {
            ChannelEvent::Open => ChatInput::ChannelOpen,
            ChannelEvent::Closed => ChatInput::ChannelClosed,
            ChannelEvent::Text(t) => ChatInput::Text(t),
            ChannelEvent::Binary => ChatInput::Binary(0),
            ChannelEvent::Oversized => ChatInput::Oversized,
        };
        self.chat(input, now);
    }

    /// What the page shows of the chat.
    pub fn chat_view(&self) -> ChatView {
        ChatView {
            entries: self.chat.history().cloned().collect(),
            unread: self.chat.unread(),
            available: match self.chat.availability() {
                Availability::Ready => Some(true),
                Availability::Unavailable => Some(false),
                Availability::Waiting => None,
            },
            panel: self.chat.panel_open(),
            error: self.chat_error.clone(),
            sent: self.chat_sent,
        }
    }
}
