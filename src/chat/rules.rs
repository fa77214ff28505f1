//! The chat's rules, as a sans-IO machine: what may be sent, what is accepted from the other
//! page, the history of the call, the unread count, and whether the other page has a chat at all.
//!
//! Frames on the chat channel (see [`super::frame`]): `1h` (hello: this page has a chat) and `1m` +
//! the text. Each page says hello when its channel opens; the chat is shown once the other
//! page's hello arrives. The original JS client has no data channel and never says hello, so
//! [`HELLO_WAIT`] after the call connects the chat is declared [`Availability::Unavailable`]
//! (the page hides it and says why); a hello that still arrives later makes it ready after all.
//!
//! Anything else from the other page (binary data, a frame too large, a frame that is not text,
//! another version, an unknown kind) is dropped with a notice in the history, and nothing already
//! there is lost.

use std::collections::VecDeque;
use std::time::Duration;

use super::frame::{FrameError, frame, split_frame};

/// The longest message, in characters.
pub const MAX_CHARS: usize = 2000;
/// The largest frame read at all, in UTF-8 bytes: the longest message of 4-byte characters and
/// the header. Larger frames are dropped before anything is decoded.
pub const MAX_FRAME_BYTES: usize = MAX_CHARS * 4 + 2;
/// How long after the call connects the other page may take to say hello.
pub const HELLO_WAIT: Duration = Duration::from_secs(4);
/// Entries kept for the call; older ones make room (a flood cannot grow memory without bound).
pub const HISTORY: usize = 1000;

/// Who wrote an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// This page.
    Me,
    /// The other person.
    Peer,
    /// Duet itself: a message that was dropped, and why.
    Notice,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Counts up for the call, so a list can key its items.
    pub seq: u64,
    /// Who wrote it.
    pub author: Author,
    /// The text, shown as text (never interpreted as markup).
    pub text: String,
}

/// Whether the chat can be used with the other page (known afresh for each link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Not known yet (the channel is opening, or the hello is on its way).
    Waiting,
    /// The other page has a chat.
    Ready,
    /// The other page said nothing: it is not Duet (the original client has no data channel).
    Unavailable,
}

/// Why a message was not sent, or an incoming frame was dropped; the text is what the page
/// shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// Nothing to send.
    #[error("Type a message first.")]
    Empty,
    /// Over [`MAX_CHARS`].
    #[error(
        "Messages are limited to 2000 characters; this one has {0}. Shorten it, or send it as a file."
    )]
    TooLong(usize),
    /// Control characters other than tab and line breaks.
    #[error("Messages are text only; this one contains control characters.")]
    NotText,
    /// The chat is not connected to the other page.
    #[error("The chat is not connected. It works once the other person is in the call with Duet.")]
    NotConnected,
}

/// Why a frame from the other page was dropped (shown as a [`Author::Notice`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    /// Binary data on the chat channel.
    #[error("A message from the other person was dropped: it was binary data, not text.")]
    Binary,
    /// Larger than [`MAX_FRAME_BYTES`], or over [`MAX_CHARS`].
    #[error("A message from the other person was dropped: it was longer than 2000 characters.")]
    TooLong,
    /// Text with control characters.
    #[error("A message from the other person was dropped: it contained control characters.")]
    NotText,
    /// Not a chat frame.
    #[error("A message from the other person was dropped: {0}.")]
    Frame(FrameError),
}

/// What arrives on the chat channel, or happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatInput<'a> {
    /// The channel opened: say hello.
    ChannelOpen,
    /// The channel closed (the call ended or the link was replaced).
    ChannelClosed,
    /// The call's media connected: the other page's hello should come soon.
    CallConnected,
    /// A text frame arrived.
    Text(&'a str),
    /// A binary frame of this many bytes arrived.
    Binary(usize),
    /// A text frame larger than [`MAX_FRAME_BYTES`] arrived (not even copied out).
    Oversized,
    /// The chat panel was opened (`true`) or closed.
    Panel(bool),
}

/// The chat of one call. See the module documentation.
#[derive(Debug, Clone)]
pub struct Chat {
    history: VecDeque<Entry>,
    next_seq: u64,
    open: bool,
    peer_hello: bool,
    hello_deadline: Option<Duration>,
    gave_up: bool,
    panel_open: bool,
    unread: usize,
    outbox: VecDeque<String>,
}

impl Default for Chat {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks a message against the rules both pages apply: not empty, at most [`MAX_CHARS`]
/// characters, text only (tab, line feed and carriage return are the only control characters).
pub fn check_text(text: &str) -> Result<(), ChatError> {
    if text.trim().is_empty() {
        return Err(ChatError::Empty);
    }
    let n = text.chars().count();
    if n > MAX_CHARS {
        return Err(ChatError::TooLong(n));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ChatError::NotText);
    }
    Ok(())
}

impl Chat {
    /// A fresh chat for a new call: empty history, nothing known about the other page.
    pub fn new() -> Self {
        Self {
            history: VecDeque::new(),
            next_seq: 0,
            open: false,
            peer_hello: false,
            hello_deadline: None,
            gave_up: false,
            panel_open: false,
            unread: 0,
            outbox: VecDeque::new(),
        }
    }

    /// Whether the other page has a chat.
    pub fn availability(&self) -> Availability {
        if self.peer_hello {
            Availability::Ready
        } else if self.gave_up {
            Availability::Unavailable
        } else {
            Availability::Waiting
        }
    }

    /// The history of the call, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &Entry> {
        self.history.iter()
    }

    /// Messages from the other person that arrived while the panel was closed.
    pub fn unread(&self) -> usize {
        self.unread
    }

    /// Whether the panel is open.
    pub fn panel_open(&self) -> bool {
        self.panel_open
    }

    /// Sends a message: checks it, queues its frame (see [`Chat::poll_send`]) and adds it to
    /// the history. On an error nothing is sent and the caller keeps the text.
    pub fn send(&mut self, text: &str) -> Result<(), ChatError> {
        check_text(text)?;
        if !(self.open && self.peer_hello) {
            return Err(ChatError::NotConnected);
        }
        self.outbox.push_back(frame('m', text));
        self.push(Author::Me, text.to_owned());
        Ok(())
    }

    /// Feeds what the channel or the page reports, at time `now`.
    pub fn handle(&mut self, input: ChatInput<'_>, now: Duration) {
        match input {
            ChatInput::ChannelOpen => {
                self.open = true;
                self.outbox.push_back(frame('h', ""));
            }
            ChatInput::ChannelClosed => {
                // The link is gone; the next one may lead to another app. The history stays.
                self.open = false;
                self.outbox.clear();
                self.peer_hello = false;
                self.gave_up = false;
                self.hello_deadline = None;
            }
            ChatInput::CallConnected => {
                if !self.peer_hello && self.hello_deadline.is_none() && !self.gave_up {
                    self.hello_deadline = Some(now + HELLO_WAIT);
                }
            }
            ChatInput::Binary(_) => self.drop_frame(Dropped::Binary),
            ChatInput::Oversized => self.drop_frame(Dropped::TooLong),
            ChatInput::Text(text) => {
                if let Err(why) = self.receive(text) {
                    self.drop_frame(why);
                }
            }
            ChatInput::Panel(open) => {
                self.panel_open = open;
                if open {
                    self.unread = 0;
                }
            }
        }
    }

    /// Gives up waiting for the other page's hello once [`Chat::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.hello_deadline.is_some_and(|d| now >= d) {
            self.hello_deadline = None;
            self.gave_up = !self.peer_hello;
        }
    }

    /// When [`Chat::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.hello_deadline
    }

    /// The next frame to send on the channel.
    pub fn poll_send(&mut self) -> Option<String> {
        self.outbox.pop_front()
    }

    fn receive(&mut self, text: &str) -> Result<(), Dropped> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(Dropped::TooLong);
        }
        match split_frame(text).map_err(Dropped::Frame)? {
            ('h', _) => {
                self.peer_hello = true;
                self.gave_up = false;
                self.hello_deadline = None;
                Ok(())
            }
            ('m', body) => match check_text(body) {
                Ok(()) => {
                    self.push(Author::Peer, body.to_owned());
                    if !self.panel_open {
                        self.unread += 1;
                    }
                    Ok(())
                }
                // An empty message is nothing to show.
                Err(ChatError::Empty) => Ok(()),
                Err(ChatError::TooLong(_)) => Err(Dropped::TooLong),
                Err(_) => Err(Dropped::NotText),
            },
            _ => Err(Dropped::Frame(FrameError::Malformed)),
        }
    }

    fn drop_frame(&mut self, why: Dropped) {
        self.push(Author::Notice, why.to_string());
    }

    fn push(&mut self, author: Author, text: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Entry {
            seq: self.next_seq,
            author,
            text,
        });
        self.next_seq += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Duration = Duration::ZERO;

    /// Two chats wired to each other, as two pages over an open channel.
    fn pair() -> (Chat, Chat) {
        let (mut a, mut b) = (Chat::new(), Chat::new());
        a.handle(ChatInput::ChannelOpen, T0);
        b.handle(ChatInput::ChannelOpen, T0);
        deliver(&mut a, &mut b);
        deliver(&mut b, &mut a);
        (a, b)
    }

    fn deliver(from: &mut Chat, to: &mut Chat) {
        while let Some(f) = from.poll_send() {
            to.handle(ChatInput::Text(&f), T0);
        }
    }

    fn texts(c: &Chat) -> Vec<(Author, &str)> {
        c.history().map(|e| (e.author, e.text.as_str())).collect()
    }

    #[test]
    fn messages_both_ways_keep_markup_as_text() {
        let (mut a, mut b) = pair();
        assert_eq!(a.availability(), Availability::Ready);
        a.send("hello <b>bold</b> & <script>x()</script>").unwrap();
        deliver(&mut a, &mut b);
        b.send("hi\nback").unwrap();
        deliver(&mut b, &mut a);
        assert_eq!(
            texts(&b),
            [
                (Author::Peer, "hello <b>bold</b> & <script>x()</script>"),
                (Author::Me, "hi\nback")
            ]
        );
        assert_eq!(texts(&a)[1], (Author::Peer, "hi\nback"));
    }

    #[test]
    fn length_limit_with_a_clear_message_and_nothing_sent() {
        let (mut a, _) = pair();
        let long = "é".repeat(MAX_CHARS + 1);
        let err = a.send(&long).unwrap_err();
        assert_eq!(err, ChatError::TooLong(MAX_CHARS + 1));
        assert!(
            err.to_string()
                .contains("limited to 2000 characters; this one has 2001")
        );
        assert!(a.send(&"é".repeat(MAX_CHARS)).is_ok());
        assert_eq!(a.send("   "), Err(ChatError::Empty));
        assert_eq!(a.send("bell\u{7}"), Err(ChatError::NotText));
        assert_eq!(
            a.poll_send().map(|f| f.chars().count()),
            Some(MAX_CHARS + 2)
        );
        assert_eq!(a.poll_send(), None);
        assert_eq!(a.history().len(), 1);
    }

    #[test]
    fn hostile_frames_are_dropped_with_a_notice_and_nothing_lost() {
        let (mut a, mut b) = pair();
        a.send("first").unwrap();
        deliver(&mut a, &mut b);
        let huge = "1m".to_owned() + &"x".repeat(10 * 1024 * 1024);
        for input in [
            ChatInput::Text(&huge),
            ChatInput::Binary(65536),
            ChatInput::Oversized,
            ChatInput::Text("1m\u{0}\u{1}"),
            ChatInput::Text("{\"type\":\"message\"}"),
            ChatInput::Text("9mfrom the future"),
            ChatInput::Text("1zunknown kind"),
            ChatInput::Text(""),
        ] {
            b.handle(input, T0);
        }
        a.send("second").unwrap();
        deliver(&mut a, &mut b);
        let h = texts(&b);
        assert_eq!(h.len(), 10);
        assert_eq!(h[0], (Author::Peer, "first"));
        assert_eq!(h[9], (Author::Peer, "second"));
        assert!(h[1..9].iter().all(|(who, _)| *who == Author::Notice));
        assert!(h[1].1.contains("longer than 2000"));
        assert!(h[2].1.contains("binary"));
        assert!(h[3].1.contains("longer than 2000"));
        assert!(h[4].1.contains("control characters"));
        assert!(h[6].1.contains("another version"));
        assert_eq!(b.availability(), Availability::Ready);
    }

    #[test]
    fn unread_counts_while_the_panel_is_closed() {
        let (mut a, mut b) = pair();
        for m in ["one", "two"] {
            a.send(m).unwrap();
        }
        deliver(&mut a, &mut b);
        assert_eq!(b.unread(), 2);
        b.handle(ChatInput::Panel(true), T0);
        assert_eq!(b.unread(), 0);
        a.send("three").unwrap();
        deliver(&mut a, &mut b);
        assert_eq!(b.unread(), 0);
        b.handle(ChatInput::Panel(false), T0);
        b.send("mine").unwrap();
        assert_eq!(b.unread(), 0, "my own messages are not unread");
        // Notices are not messages from the other person either.
        b.handle(ChatInput::Binary(3), T0);
        assert_eq!(b.unread(), 0);
    }

    #[test]
    fn a_page_without_chat_is_declared_after_the_hello_wait() {
        let mut a = Chat::new();
        a.handle(ChatInput::ChannelOpen, T0);
        assert_eq!(a.poll_send().as_deref(), Some("1h"));
        assert_eq!(
            a.poll_timeout(),
            None,
            "no deadline before the call connects"
        );
        let up = Duration::from_secs(10);
        a.handle(ChatInput::CallConnected, up);
        assert_eq!(a.poll_timeout(), Some(up + HELLO_WAIT));
        a.handle_timeout(up + HELLO_WAIT - Duration::from_millis(1));
        assert_eq!(a.availability(), Availability::Waiting);
        a.handle_timeout(up + HELLO_WAIT);
        assert_eq!(a.availability(), Availability::Unavailable);
        assert_eq!(a.poll_timeout(), None);
        assert_eq!(a.send("anyone?"), Err(ChatError::NotConnected));
        // A hello that comes late still makes the chat usable.
        a.handle(ChatInput::Text("1h"), up + HELLO_WAIT * 2);
        assert_eq!(a.availability(), Availability::Ready);
        assert!(a.send("there you are").is_ok());
    }

    #[test]
    fn closed_channel_stops_sending_and_history_stays_bounded() {
        let (mut a, mut b) = pair();
        for i in 0..HISTORY + 5 {
            let mut s = "m".to_owned();
            s.push_str(&i.to_string());
            a.send(&s).unwrap();
        }
        deliver(&mut a, &mut b);
        assert_eq!(b.history().len(), HISTORY);
        assert_eq!(b.history().next().unwrap().text, "m5");
        assert_eq!(b.history().last().unwrap().seq, (HISTORY + 4) as u64);
        a.handle(ChatInput::ChannelClosed, T0);
        assert_eq!(a.send("late"), Err(ChatError::NotConnected));
        assert_eq!(a.poll_send(), None);
        // The next link starts unknown again, with the history kept.
        assert_eq!(a.availability(), Availability::Waiting);
        assert_eq!(a.history().len(), HISTORY);
    }
}
