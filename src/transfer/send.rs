//! The sending side: offer, read a slice, send its chunks while the channel has room, done,
//! then wait for the receiver's confirmation (or refusal).

use std::time::Duration;

use super::wire::{Control, MAX_FILE_BYTES, Refusal};
use super::{
    Action, CHUNK_BYTES, Direction, Failure, HIGH_WATER, READ_BYTES, Rate, SendError, State,
    Transfer, Transfers,
};

/// The outgoing file whose bytes are moving.
#[derive(Debug)]
pub(super) struct Sending {
    idx: usize,
    /// Bytes read so far (the page holds `slice_start..read`).
    read: u64,
    /// A read is on its way.
    reading: bool,
    /// Bytes handed to the channel.
    sent: u64,
}

impl Transfers {
    /// Queues a file to send (its name, size and type as the browser's `File` says); returns
    /// its id, which [`Action::Read`], [`Action::Chunk`] and [`Action::Release`] carry. The
    /// page keeps the `File` until it is released.
    pub fn send_file(
        &mut self,
        name: &str,
        size: u64,
        mime: &str,
        now: Duration,
    ) -> Result<u32, SendError> {
        if size > MAX_FILE_BYTES {
            return Err(SendError::TooLarge);
        }
        if !self.open {
            return Err(SendError::NotConnected);
        }
        self.next_id += 1;
        let id = self.next_id;
        let key = self.new_key();
        self.push(Transfer {
            key,
            id,
            direction: Direction::Send,
            name: super::wire::clean_name(name),
            mime: super::wire::clean_type(mime),
            size,
            done: 0,
            rate: Rate::default(),
            state: State::Queued,
        });
        self.pump(now);
        self.arm_tick(now);
        Ok(id)
    }

    /// Moves bytes: starts the next queued file, sends chunks while the channel has room,
    /// asks for the next slice when this one is all sent, says done at the end.
    pub(super) fn pump(&mut self, now: Duration) {
        if !self.open {
            return;
        }
        if self.sending.is_none() {
            self.start_next(now);
        }
        let Some(s) = self.sending.as_mut() else {
            return;
        };
        let t = &mut self.list[s.idx];
        while s.sent < s.read && self.buffered < HIGH_WATER {
            let end = (s.sent + CHUNK_BYTES).min(s.read);
            self.actions.push_back(Action::Chunk {
                id: t.id,
                start: s.sent,
                end,
            });
            self.buffered += end - s.sent;
            s.sent = end;
        }
        let done = s.sent.saturating_sub(self.buffered);
        if done > t.done {
            t.done = done;
            t.rate.sample(now, done);
        }
        if s.sent == s.read && !s.reading && s.read < t.size {
            let end = (s.read + READ_BYTES).min(t.size);
            self.actions.push_back(Action::Read {
                id: t.id,
                start: s.read,
                end,
            });
            s.reading = true;
        } else if s.sent == t.size {
            // All handed to the channel: the receiver's `1k` completes it; the next file may
            // follow at once (the channel keeps their order).
            let id = t.id;
            self.sending = None;
            self.text(Control::Done(id));
            self.pump(now);
        }
    }

    fn start_next(&mut self, now: Duration) {
        let Some(idx) = self
            .list
            .iter()
            .position(|t| t.direction == Direction::Send && t.state == State::Queued)
        else {
            return;
        };
        let t = &mut self.list[idx];
        t.state = State::Active;
        t.rate.sample(now, 0);
        let offer = Control::Offer {
            id: t.id,
            size: t.size,
            mime: t.mime.clone(),
            name: t.name.clone(),
        };
        self.text(offer);
        self.sending = Some(Sending {
            idx,
            read: 0,
            reading: false,
            sent: 0,
        });
    }

    pub(super) fn read_done(&mut self, id: u32, start: u64, end: u64, now: Duration) {
        let Some(s) = self.sending.as_mut() else {
            return;
        };
        let t = &self.list[s.idx];
        // A late answer for a file already cancelled, or not the slice asked for.
        if t.id != id || !s.reading || start != s.read || end <= start || end > t.size {
            return;
        }
        s.read = end;
        s.reading = false;
        self.pump(now);
    }

    pub(super) fn read_failed(&mut self, id: u32) {
        let Some(s) = &self.sending else { return };
        if self.list[s.idx].id == id {
            let idx = s.idx;
            self.stop_send(idx, State::Failed(Failure::Unreadable), true);
        }
    }

    /// The user cancels an outgoing file.
    pub(super) fn cancel_send(&mut self, idx: usize, now: Duration) {
        // A queued file was never offered: nothing to tell the other page.
        let tell = self.list[idx].state == State::Active;
        self.stop_send(idx, State::Cancelled { by_me: true }, tell);
        self.pump(now);
    }

    /// The receiver has every byte.
    pub(super) fn delivered(&mut self, id: u32, now: Duration) {
        if let Some(t) = self.outgoing_active(id) {
            let size = t.size;
            t.done = size;
            t.rate.sample(now, size);
            t.state = State::Complete;
            self.actions.push_back(Action::Release(id));
        }
    }

    /// The receiver stopped one of our files.
    pub(super) fn refused(&mut self, id: u32, why: Refusal, now: Duration) {
        let Some(idx) = self
            .list
            .iter()
            .position(|t| t.direction == Direction::Send && t.id == id && t.state == State::Active)
        else {
            return;
        };
        let state = match why {
            Refusal::Cancelled => State::Cancelled { by_me: false },
            Refusal::TooLarge => State::Failed(Failure::TooLarge),
            Refusal::Malformed => State::Failed(Failure::Malformed),
        };
        self.stop_send(idx, state, false);
        self.pump(now);
    }

    fn outgoing_active(&mut self, id: u32) -> Option<&mut Transfer> {
        self.list
            .iter_mut()
            .find(|t| t.direction == Direction::Send && t.id == id && t.state == State::Active)
    }

    /// Ends an outgoing file: `tell` sends `1c`; its bytes still in the channel's buffer
    /// arrive and are dropped by the receiver.
    fn stop_send(&mut self, idx: usize, state: State, tell: bool) {
        let id = self.list[idx].id;
        self.list[idx].state = state;
        if self.sending.as_ref().is_some_and(|s| s.idx == idx) {
            self.sending = None;
        }
        if tell {
            self.text(Control::Cancel(id));
        }
        self.actions.push_back(Action::Release(id));
    }
}
