//! Sending and receiving files over the call's file channel, as a sans-IO machine.
//!
//! [`Transfers`] holds every file of the call in both directions. The page feeds it what
//! happens ([`Input`], the channel's `bufferedAmount` among it) and the time, and carries out
//! its [`Action`]s: send a text frame, read a slice of the outgoing file, send part of that slice,
//! let go of a file, assemble or discard what was received. File bytes never pass through it:
//! it works with offsets, the page with `Blob.slice` and the channel.
//!
//! - **Sender memory is bounded**: one slice of [`READ_BYTES`] is read at a time, and only
//!   when the previous one is all sent; chunks of [`CHUNK_BYTES`] go out while the channel
//!   holds less than [`HIGH_WATER`], then the machine waits for the channel's
//!   `bufferedamountlow` (threshold [`LOW_WATER`]).
//! - **One file at a time per direction**; more wait in a queue. The receiver confirms every
//!   byte (`1k`), so the sender's "done" means delivered.
//! - **Either side cancels** (`1c` from the sender, `1r` from the receiver); bytes still on the
//!   way after a cancel are dropped by the receiver, which reads bytes only after an offer.
//! - **Progress** is bytes done and the speed over the last seconds ([`rate`]); while a file
//!   moves, [`Transfers::poll_timeout`] asks for a tick so a stall shows as the speed falling.
//!
//! Frames: [`wire`].

pub mod panel;
mod rate;
mod receive;
mod send;
#[cfg(test)]
mod tests;
pub(crate) mod units;
pub mod wire;

use std::collections::VecDeque;
use std::time::Duration;

pub use self::rate::Rate;
pub use self::wire::{Control, MAX_FILE_BYTES, Refusal};

/// Bytes per binary frame: every browser's data channel takes 16 KiB messages.
pub const CHUNK_BYTES: u64 = 16 * 1024;
/// Bytes read from the file at a time.
pub const READ_BYTES: u64 = 256 * 1024;
/// No more chunks while the channel holds this much.
pub const HIGH_WATER: u64 = 1024 * 1024;
/// The channel's `bufferedAmountLowThreshold`: below it, sending resumes.
pub const LOW_WATER: u64 = 256 * 1024;
/// How often progress is refreshed while a file moves.
pub const TICK: Duration = Duration::from_millis(500);

/// Which way a file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From this page.
    Send,
    /// To this page.
    Receive,
}

/// Why a transfer stopped without the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("The file is larger than 2 GB, the most Duet can send.")]
    TooLarge,
    /// The other page broke the transfer rules.
    #[error("The other page sent the file wrongly; it was discarded.")]
    Malformed,
    /// The file could not be read (moved or deleted while sending).
    #[error("The file could not be read. Check that it still exists, then send it again.")]
    Unreadable,
    /// The call or its channel closed.
    #[error("The connection closed before the file was complete.")]
    Closed,
}

/// Why a file cannot be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Over [`MAX_FILE_BYTES`].
    #[error("The file is larger than 2 GB, the most Duet can send.")]
    TooLarge,
    /// No channel to the other page.
    #[error("Files can be sent once the other person is in the call with Duet.")]
    NotConnected,
}

/// Where a transfer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for the file before it (sender).
    Queued,
    /// Bytes are moving.
    Active,
    /// Every byte arrived.
    Complete,
    /// Someone pressed Cancel.
    Cancelled {
        /// This page's user did.
        by_me: bool,
    },
    /// It stopped on an error.
    Failed(Failure),
}

/// One file of the call, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Unique among this page's transfers of the call (a list key).
    pub key: u64,
    /// The id on the wire (the sender's).
    pub id: u32,
    /// Which way it goes.
    pub direction: Direction,
    /// The file name (cleaned on receipt).
    pub name: String,
    /// The media type (cleaned on receipt).
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Bytes delivered (sender: left the channel's buffer) or received.
    pub done: u64,
    /// Recent speed.
    pub rate: Rate,
    /// Where it is.
    pub state: State,
}

impl Transfer {
    /// Whether it is queued or moving.
    pub fn is_live(&self) -> bool {
        matches!(self.state, State::Queued | State::Active)
    }

    /// Its status in words: `1.2 MB of 5.0 MB · 800.0 kB/s`, `Received`, `Cancelled by the
    /// other person`, or why it failed.
    pub fn status(&self) -> String {
        use units::human_bytes;
        match self.state {
            State::Queued => "Waiting for the file before it".to_owned(),
            State::Active => {
                let speed = self.rate.bytes_per_s();
                let mut s = human_bytes(self.done) + " of " + &human_bytes(self.size);
                if speed > 0 {
                    s = s + " · " + &human_bytes(speed) + "/s";
                }
                s
            }
            State::Complete if self.direction == Direction::Send => "Sent".to_owned(),
            State::Complete => "Received".to_owned(),
            State::Cancelled { by_me: true } => "Cancelled".to_owned(),
            State::Cancelled { by_me: false } => "Cancelled by the other person".to_owned(),
            State::Failed(f) => f.to_string(),
        }
    }
}

/// What the page reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The file channel opened.
    ChannelOpen,
    /// The file channel closed: whatever was moving fails.
    ChannelClosed,
    /// A text frame arrived.
    Text(&'a str),
    /// The slice asked for by [`Action::Read`] is read and held by the page.
    Read {
        /// The outgoing transfer.
        id: u32,
        /// Its first byte.
        start: u64,
        /// One past its last byte.
        end: u64,
    },
    /// Reading the outgoing file failed.
    ReadFailed(u32),
    /// The channel's `bufferedAmount` now (after sending, and on `bufferedamountlow`).
    Buffered(u64),
    /// The user cancels a transfer (its [`Transfer::key`]).
    Cancel(u64),
}

/// What the page does for the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this text frame.
    Text(String),
    /// Read bytes `start..end` of outgoing file `id` (replacing the slice held before).
    Read {
        /// The outgoing transfer.
        id: u32,
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// Send bytes `start..end` of the slice read last, as one binary frame.
    Chunk {
        /// The outgoing transfer.
        id: u32,
        /// First byte (file offset).
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// Let go of outgoing file `id` and its slice.
    Release(u32),
    /// Every byte of the incoming transfer with this key arrived: make the file from the kept
    /// binary frames (name and type from [`Transfers::get`]).
    Assemble(u64),
    /// Drop the binary frames kept for the incoming transfer with this key.
    Discard(u64),
}

/// Every file of one call. See the module documentation.
#[derive(Debug, Default)]
pub struct Transfers {
    list: Vec<Transfer>,
    next_key: u64,
    next_id: u32,
    open: bool,
    /// The outgoing file whose bytes are moving.
    sending: Option<send::Sending>,
    /// The channel's bufferedAmount, plus what was sent since it was last reported.
    buffered: u64,
    /// Index of the incoming file whose bytes are arriving.
    receiving: Option<usize>,
    actions: VecDeque<Action>,
    next_tick: Option<Duration>,
}

impl Transfers {
    /// No files yet, channel not open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every transfer of the call, oldest first.
    pub fn list(&self) -> &[Transfer] {
        &self.list
    }

    /// The transfer with this key.
    pub fn get(&self, key: u64) -> Option<&Transfer> {
        self.list.iter().find(|t| t.key == key)
    }

    /// Whether files can be sent (the channel is open).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Feeds what happened, at `now`.
    pub fn handle(&mut self, input: Input<'_>, now: Duration) {
        match input {
            Input::ChannelOpen => {
                self.open = true;
                self.pump(now);
            }
            Input::ChannelClosed => self.closed(),
            Input::Text(text) => {
                // A frame this page cannot read changes nothing in progress.
                if let Ok(c) = Control::decode(text) {
                    self.control(c, now);
                }
            }
            Input::Read { id, start, end } => self.read_done(id, start, end, now),
            Input::ReadFailed(id) => self.read_failed(id),
            Input::Buffered(n) => {
                self.buffered = n;
                self.pump(now);
            }
            Input::Cancel(key) => self.cancel(key, now),
        }
        self.arm_tick(now);
    }

    /// Refreshes the speeds; call at [`Transfers::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.next_tick.is_some_and(|t| now >= t) {
            for t in self.list.iter_mut().filter(|t| t.state == State::Active) {
                t.rate.sample(now, t.done);
            }
            self.next_tick = None;
            self.arm_tick(now);
        }
    }

    /// When [`Transfers::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.next_tick
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    fn arm_tick(&mut self, now: Duration) {
        let moving = self.list.iter().any(|t| t.state == State::Active);
        if !moving {
            self.next_tick = None;
        } else if self.next_tick.is_none() {
            self.next_tick = Some(now + TICK);
        }
    }

    fn push(&mut self, t: Transfer) -> usize {
        self.list.push(t);
        self.list.len() - 1
    }

    fn new_key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    fn text(&mut self, c: Control) {
        self.actions.push_back(Action::Text(c.encode()));
    }

    fn control(&mut self, c: Control, now: Duration) {
        match c {
            Control::Offer {
                id,
                size,
                mime,
                name,
            } => self.offered(id, size, mime, name, now),
            Control::Done(id) => self.sender_done(id, now),
            Control::Cancel(id) => self.sender_cancelled(id),
            Control::Received(id) => self.delivered(id, now),
            Control::Refuse(id, why) => self.refused(id, why, now),
        }
    }

    /// The channel closed: everything live fails, every file and every kept frame is let go.
    fn closed(&mut self) {
        self.open = false;
        self.sending = None;
        self.receiving = None;
        self.buffered = 0;
        for t in self.list.iter_mut().filter(|t| t.is_live()) {
            t.state = State::Failed(Failure::Closed);
            self.actions.push_back(match t.direction {
                Direction::Send => Action::Release(t.id),
                Direction::Receive => Action::Discard(t.key),
            });
        }
    }

    fn cancel(&mut self, key: u64, now: Duration) {
        let Some(i) = self.list.iter().position(|t| t.key == key && t.is_live()) else {
            return;
        };
        match self.list[i].direction {
            Direction::Send => self.cancel_send(i, now),
            Direction::Receive => self.cancel_receive(i),
        }
    }
}
