//! File transfer as a part of the call machine (issue 14): the link's
//! file channel and the user feed [`Transfers`] (crate::transfer); its actions become the
//! machine's file actions; its progress tick joins the machine's deadline. Bytes never pass
//! through here: the session holds the outgoing files and the received chunks, and asks
//! [`Machine::take_chunk`] whether to keep each one.

use std::time::Duration;

use super::io::{Action, FilesEvent};
use super::machine::Machine;
use crate::transfer::{self, Input as T, Transfer, Transfers};

/// The file channel's events kept before the transfers' code is there, at most: an honest
/// page sends a few offer frames before the other side's first frame; more is dropped.
const HELD_FILE_EVENTS: usize = 64;

/// The transfers' code as function pointers. In the release bundle it is part of the module
/// that loads after the first frame (`crate::extras`), which hands it over
/// ([`Machine::install_transfers`]); until then the machine keeps the file channel's events
/// and replays them. No transfer can exist before: sending one and seeing an offer both go
/// through this code. Every other build has it from the start ([`Machine::new`]), so the
/// machine's tests run the same code the page does.
#[derive(Debug, Clone, Copy)]
pub struct TransferCode {
    handle: for<'a> fn(&mut Transfers, T<'a>, Duration),
    tick: fn(&mut Transfers, Duration),
    show: fn(&Transfers, &mut Vec<Transfer>) -> bool,
}

impl TransferCode {
    /// The code itself. In the split bundle only the later module calls this.
    pub fn new() -> Self {
        Self {
            handle: Transfers::handle,
            tick: Transfers::handle_timeout,
            show: |transfers, shown| {
                let list = transfers.list();
                let changed = shown.as_slice() != list;
                if changed {
                    shown.clear();
                    shown.extend_from_slice(list);
                }
                changed
            },
        }
    }

    /// What a new machine starts with (see the type).
    pub(super) fn built_in() -> Option<Self> {
        #[cfg(not(duet_split))]
        return Some(Self::new());
        #[cfg(duet_split)]
        return None;
    }
}

impl Default for TransferCode {
    fn default() -> Self {
        Self::new()
    }
}

impl Machine {
    /// Feeds the transfers and queues what they ask for. Without their code there is no
    /// transfer for `input` to concern (see [`TransferCode`]): it is dropped.
    pub(super) fn files(&mut self, input: T<'_>, now: Duration) {
        if let Some(code) = self.transfer_code {
            (code.handle)(&mut self.transfers, input, now);
            self.take_file_actions();
        }
    }

    /// The transfers' deadline is due.
    pub(super) fn files_timeout(&mut self, now: Duration) {
        if let Some(code) = self.transfer_code {
            (code.tick)(&mut self.transfers, now);
            self.take_file_actions();
        }
    }

    /// The link, and with it the file channel, was replaced.
    pub(super) fn files_channel_gone(&mut self) {
        self.held_files.clear();
        self.files(T::ChannelClosed, Duration::ZERO);
    }

    /// The transfers' code is here: the file channel's events kept until now are replayed,
    /// each at the time it came. Once is enough; later calls change nothing.
    pub fn install_transfers(&mut self, code: TransferCode) {
        if self.transfer_code.is_some() {
            return;
        }
        self.transfer_code = Some(code);
        for (event, at) in std::mem::take(&mut self.held_files) {
            self.on_files(event, at);
        }
    }

    pub(super) fn take_file_actions(&mut self) {
        while let Some(a) = self.transfers.poll_action() {
            self.act(Action::Files(a));
        }
    }

    /// The file channel of the current link.
    pub(super) fn on_files(&mut self, event: FilesEvent, now: Duration) {
        if self.transfer_code.is_none() {
            if self.held_files.len() < HELD_FILE_EVENTS {
                self.held_files.push((event, now));
            }
            return;
        }
        match event {
            FilesEvent::Open => self.files(T::ChannelOpen, now),
            FilesEvent::Closed => self.files(T::ChannelClosed, now),
            FilesEvent::Text(t) => self.files(T::Text(&t), now),
            FilesEvent::Buffered(n) => self.files(T::Buffered(n), now),
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

    /// Copies every file of the call into `shown` (the view's list) if it differs; whether it
    /// did. Through the transfers' code, so the main module holds no code that copies or
    /// compares them; without that code there is no transfer to show.
    pub fn show_transfers(&self, shown: &mut Vec<Transfer>) -> bool {
        self.transfer_code
            .is_some_and(|code| (code.show)(&self.transfers, shown))
    }
}
