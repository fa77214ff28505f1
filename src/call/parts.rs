//! The code of the machine's two parts that a call needs only once it is up, the file transfers
//! and the chat, as function pointers ([`PartsCode`]). In the release bundle it is part of the
//! module that loads after the first frame (`crate::extras`), which hands it over
//! ([`Machine::install_parts`]); until then the machine keeps what concerns those parts (their
//! channels' events, the call connecting) and replays it, each at the time it came. The
//! machine's state for them (the [`Transfers`], the [`Chat`], the held events) stays in the
//! main module: only the code that reads and changes it moves.
//!
//! Nothing is lost by waiting. No transfer can exist before the code: sending one and seeing an
//! offer both go through it. The chat's panel, the only way to send or read a message, is in
//! the same module. What the other page sees is this page's chat hello arriving a moment
//! later, which its chat takes however late it comes (`crate::chat::rules`).
//!
//! Every other build has the code from the start ([`Machine::new`]), so the machine's tests run
//! the same code the page does.

use std::time::Duration;

use super::chat::ChatView;
use super::io::{Action, ChannelEvent, FilesEvent};
use super::machine::Machine;
use crate::chat::{Availability, Chat, ChatInput};
use crate::transfer::{Input as T, Transfer, Transfers};

/// The frames (and messages typed) kept until the parts' code is there, at most: an honest page
/// sends a few on each channel before the other side's first frame; more are dropped.
const HELD_EVENTS: usize = 64;

/// Everything kept, at most. Beyond [`HELD_EVENTS`] frames, only what says where the channels
/// and the call stand (opened, closed, connected, the panel) is still kept, so that a flood of
/// frames cannot leave the replayed chat believing a replaced channel is still open.
const HELD_AT_MOST: usize = 4 * HELD_EVENTS;

/// What the machine keeps for the parts until their code is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Held {
    /// The file channel's event.
    Files(FilesEvent),
    /// The chat channel's event.
    Chat(ChannelEvent),
    /// The call's media connected (the other page's chat hello is due).
    CallConnected,
    /// The user opened or closed the chat panel.
    ChatPanel(bool),
    /// The user sent a message.
    SendChat(String),
}

/// The parts' code as function pointers (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct PartsCode {
    files: for<'a> fn(&mut Transfers, T<'a>, Duration),
    files_tick: fn(&mut Transfers, Duration),
    show_files: fn(&Transfers, &mut Vec<Transfer>) -> bool,
    chat: for<'a> fn(&mut Machine, ChatInput<'a>, Duration),
    chat_tick: fn(&mut Machine, Duration),
    send_chat: fn(&mut Machine, &str),
    show_chat: fn(&Machine, &mut ChatView) -> bool,
    replay: fn(&mut Machine, Vec<(Held, Duration)>),
}

impl PartsCode {
    /// The code itself. In the split bundle only the later module calls this.
    pub fn new() -> Self {
        Self {
            files: Transfers::handle,
            files_tick: Transfers::handle_timeout,
            show_files: |transfers, shown| {
                let list = transfers.list();
                let changed = shown.as_slice() != list;
                if changed {
                    shown.clear();
                    shown.extend_from_slice(list);
                }
                changed
            },
            chat: |m, input, now| {
                m.chat.handle(input, now);
                take_chat_frames(m);
            },
            chat_tick: |m, now| {
                m.chat.handle_timeout(now);
                take_chat_frames(m);
            },
            send_chat: |m, text| {
                send_chat(m, text);
                take_chat_frames(m);
            },
            show_chat: |m, shown| {
                let chat = chat_view(m);
                let changed = *shown != chat;
                if changed {
                    *shown = chat;
                }
                changed
            },
            replay,
        }
    }

    /// What a new machine starts with (see the module documentation).
    pub(super) fn built_in() -> Option<Self> {
        #[cfg(not(duet_split))]
        return Some(Self::new());
        #[cfg(duet_split)]
        return None;
    }
}

impl Default for PartsCode {
    fn default() -> Self {
        Self::new()
    }
}

/// Replays what was held, in order, each at the time it came. The chat's frames are taken
/// once at the end: a channel closed meanwhile (a fresh link) cleared what its events queued,
/// so only the current channel's hello goes out, not one of a channel that is gone.
fn replay(m: &mut Machine, held: Vec<(Held, Duration)>) {
    for (held, at) in held {
        match held {
            Held::Files(event) => m.on_files(event, at),
            Held::Chat(event) => m.chat.handle(chat_input(&event), at),
            Held::CallConnected => m.chat.handle(ChatInput::CallConnected, at),
            Held::ChatPanel(open) => m.chat.handle(ChatInput::Panel(open), at),
            Held::SendChat(text) => send_chat(m, &text),
        }
    }
    take_chat_frames(m);
}

fn send_chat(m: &mut Machine, text: &str) {
    match m.chat.send(text) {
        Ok(()) => {
            m.chat_error = None;
            m.chat_sent += 1;
        }
        Err(e) => m.chat_error = Some(e.to_string()),
    }
}

fn chat_input(event: &ChannelEvent) -> ChatInput<'_> {
    match event {
        ChannelEvent::Open => ChatInput::ChannelOpen,
        ChannelEvent::Closed => ChatInput::ChannelClosed,
        ChannelEvent::Text(t) => ChatInput::Text(t),
        ChannelEvent::Binary => ChatInput::Binary(0),
        ChannelEvent::Oversized => ChatInput::Oversized,
    }
}

fn take_chat_frames(m: &mut Machine) {
    while let Some(frame) = m.chat.poll_send() {
        m.act(Action::SendChat(frame));
    }
}

fn chat_view(m: &Machine) -> ChatView {
    let chat: &Chat = &m.chat;
    ChatView {
        entries: chat.history().cloned().collect(),
        unread: chat.unread(),
        available: match chat.availability() {
            Availability::Ready => Some(true),
            Availability::Unavailable => Some(false),
            Availability::Waiting => None,
        },
        panel: chat.panel_open(),
        error: m.chat_error.clone(),
        sent: m.chat_sent,
    }
}

impl Machine {
    /// The parts' code is here: what was kept until now is replayed, each at the time it
    /// came. Once is enough; later calls change nothing.
    pub fn install_parts(&mut self, code: PartsCode) {
        if self.parts_code.is_some() {
            return;
        }
        self.parts_code = Some(code);
        let held = std::mem::take(&mut self.held);
        (code.replay)(self, held);
    }

    /// Keeps `held` for the code (see [`HELD_EVENTS`] and [`HELD_AT_MOST`]).
    fn hold(&mut self, held: Held, now: Duration) {
        let frame = matches!(
            held,
            Held::Files(FilesEvent::Text(_) | FilesEvent::Buffered(_))
                | Held::Chat(
                    ChannelEvent::Text(_) | ChannelEvent::Binary | ChannelEvent::Oversized
                )
                | Held::SendChat(_)
        );
        let limit = if frame { HELD_EVENTS } else { HELD_AT_MOST };
        if self.held.len() < limit {
            self.held.push((held, now));
        }
    }

    /// Feeds the transfers and queues what they ask for. Without their code there is no
    /// transfer for `input` to concern: it is dropped.
    pub(super) fn files(&mut self, input: T<'_>, now: Duration) {
        if let Some(code) = self.parts_code {
            (code.files)(&mut self.transfers, input, now);
            self.take_file_actions();
        }
    }

    /// The parts' deadlines are due.
    pub(super) fn parts_timeout(&mut self, now: Duration) {
        if let Some(code) = self.parts_code {
            (code.files_tick)(&mut self.transfers, now);
            self.take_file_actions();
            (code.chat_tick)(self, now);
        }
    }

    /// The link, and with it both channels, was replaced. The file channel's held events go
    /// (no transfer outlives its channel); the chat's stay, as its history lives for the call.
    pub(super) fn channels_gone(&mut self) {
        self.held.retain(|(h, _)| !matches!(h, Held::Files(_)));
        self.files(T::ChannelClosed, Duration::ZERO);
        self.on_channel(ChannelEvent::Closed, Duration::ZERO);
    }

    /// The file channel of the current link.
    pub(super) fn on_files(&mut self, event: FilesEvent, now: Duration) {
        if self.parts_code.is_none() {
            return self.hold(Held::Files(event), now);
        }
        match event {
            FilesEvent::Open => self.files(T::ChannelOpen, now),
            FilesEvent::Closed => self.files(T::ChannelClosed, now),
            FilesEvent::Text(t) => self.files(T::Text(&t), now),
            FilesEvent::Buffered(n) => self.files(T::Buffered(n), now),
        }
    }

    /// Feeds the chat and queues its frames; held without its code.
    pub(super) fn chat(&mut self, input: ChatInput<'_>, now: Duration) {
        match (self.parts_code, input) {
            (Some(code), input) => (code.chat)(self, input, now),
            (None, ChatInput::CallConnected) => self.hold(Held::CallConnected, now),
            (None, ChatInput::Panel(open)) => self.hold(Held::ChatPanel(open), now),
            // The channel's own events come through [`Machine::on_channel`].
            (None, _) => {}
        }
    }

    /// The chat channel of the current link.
    pub(super) fn on_channel(&mut self, event: ChannelEvent, now: Duration) {
        match self.parts_code {
            Some(code) => (code.chat)(self, chat_input(&event), now),
            None => self.hold(Held::Chat(event), now),
        }
    }

    /// The user's message: sent, or the reason it was not (shown in the panel).
    pub(super) fn send_chat(&mut self, text: &str) {
        match self.parts_code {
            Some(code) => (code.send_chat)(self, text),
            None => self.hold(Held::SendChat(text.to_owned()), Duration::ZERO),
        }
    }

    /// Copies what the page shows of the chat into `shown` if it differs; whether it did.
    /// Without the code nothing has reached the chat: nothing to show.
    pub fn show_chat(&self, shown: &mut ChatView) -> bool {
        self.parts_code
            .is_some_and(|code| (code.show_chat)(self, shown))
    }

    /// Copies every file of the call into `shown` (the view's list) if it differs; whether it
    /// did. Without the code there is no transfer to show.
    pub fn show_transfers(&self, shown: &mut Vec<Transfer>) -> bool {
        self.parts_code
            .is_some_and(|code| (code.show_files)(&self.transfers, shown))
    }
}
