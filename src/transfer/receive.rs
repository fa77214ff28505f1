//! The receiving side: accept an offer, count its bytes, check them against the size on done,
//! confirm or refuse.

use std::time::Duration;

use super::wire::{Control, MAX_FILE_BYTES, Refusal};
use super::{Action, Direction, Failure, Rate, State, Transfer, Transfers};

impl Transfers {
    /// A binary frame of `len` bytes arrived. Returns whether the page keeps it (it belongs
    /// to the file being received); bytes outside a transfer (still on the way after a cancel,
    /// or sent without an offer) are dropped.
    pub fn handle_chunk(&mut self, len: u64, now: Duration) -> bool {
        let Some(idx) = self.receiving else {
            return false;
        };
        let t = &mut self.list[idx];
        if t.done + len > t.size {
            self.stop_receive(
                idx,
                State::Failed(Failure::Malformed),
                Some(Refusal::Malformed),
            );
            return false;
        }
        t.done += len;
        t.rate.sample(now, t.done);
        self.arm_tick(now);
        true
    }

    pub(super) fn offered(
        &mut self,
        id: u32,
        size: u64,
        mime: String,
        name: String,
        now: Duration,
    ) {
        if let Some(idx) = self.receiving {
            // A new offer before the last one's done: the sender broke the order.
            self.stop_receive(
                idx,
                State::Failed(Failure::Malformed),
                Some(Refusal::Malformed),
            );
        }
        let too_large = size > MAX_FILE_BYTES;
        let key = self.new_key();
        let idx = self.push(Transfer {
            key,
            id,
            direction: Direction::Receive,
            name,
            mime,
            size,
            done: 0,
            rate: Rate::default(),
            state: if too_large {
                State::Failed(Failure::TooLarge)
            } else {
                State::Active
            },
        });
        if too_large {
            self.text(Control::Refuse(id, Refusal::TooLarge));
        } else {
            self.list[idx].rate.sample(now, 0);
            self.receiving = Some(idx);
        }
    }

    /// The sender says every byte is sent.
    pub(super) fn sender_done(&mut self, id: u32, now: Duration) {
        let Some(idx) = self.receiving.filter(|&i| self.list[i].id == id) else {
            return;
        };
        let t = &mut self.list[idx];
        if t.done != t.size {
            self.stop_receive(
                idx,
                State::Failed(Failure::Malformed),
                Some(Refusal::Malformed),
            );
            return;
        }
        t.state = State::Complete;
        t.rate.sample(now, t.done);
        let key = t.key;
        self.receiving = None;
        self.actions.push_back(Action::Assemble(key));
        self.text(Control::Received(id));
    }

    /// The sender stopped.
    pub(super) fn sender_cancelled(&mut self, id: u32) {
        if let Some(idx) = self.receiving.filter(|&i| self.list[i].id == id) {
            self.stop_receive(idx, State::Cancelled { by_me: false }, None);
        }
    }

    /// The user cancels an incoming file.
    pub(super) fn cancel_receive(&mut self, idx: usize) {
        self.stop_receive(
            idx,
            State::Cancelled { by_me: true },
            Some(Refusal::Cancelled),
        );
    }

    fn stop_receive(&mut self, idx: usize, state: State, tell: Option<Refusal>) {
        let t = &mut self.list[idx];
        t.state = state;
        let (id, key) = (t.id, t.key);
        if self.receiving == Some(idx) {
            self.receiving = None;
        }
        self.actions.push_back(Action::Discard(key));
        if let Some(why) = tell {
            self.text(Control::Refuse(id, why));
        }
    }
}
