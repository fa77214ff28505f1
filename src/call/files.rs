//! File transfer as a part of the call machine (issue 14): the link's
//! file channel and the user feed [`crate::transfer::Transfers`]; its actions become the
//! machine's file actions; its progress tick joins the machine's deadline. Bytes never pass
//! through here: the session holds the outgoing files and the received chunks, and asks
//! [`Machine::take_chunk`] whether to keep each one. The code that feeds them is in
//! [`super::parts`].

use std::time::Duration;

use super::io::Action;
use super::machine::Machine;
use crate::transfer::{self, Transfer};

impl Machine {
    pub(super) fn take_file_actions(&mut self) {
        while let Some(a) = self.transfers.poll_action() {
            self.act(Action::Files(a));
        }
    }

    /// The user sends a file (as its `File` says); `Err` says why not (shown to the user).
    /// On `Ok` the session keeps the `File` under the returned id until [`Action::Files`]
    /// releases it.
    pub fn send_file(
        &mut self,
        name: &str,
        size: u64,
        mime: &str,
        now: Duration,
    ) -> Result<u32, transfer::SendError> {
        let id = self.transfers.send_file(name, size, mime, now)?;
        self.take_file_actions();
        Ok(id)
    }

    /// A binary chunk of `len` bytes arrived on link `link`'s file channel: whether the
    /// session keeps it (part of the incoming file) or drops it (after a cancel, or from a
    /// replaced link).
    pub fn take_chunk(&mut self, link: u64, len: u64, now: Duration) -> bool {
        if self.link.as_ref().is_none_or(|l| l.id != link) {
            return false;
        }
        let keep = self.transfers.handle_chunk(len, now);
        self.take_file_actions();
        keep
    }

    /// Every file of the call, for the list.
    pub fn transfers(&self) -> &[Transfer] {
        self.transfers.list()
    }
}
