//! Screen sharing's rules, a part of the call machine: the screen replaces the camera on the
//! video sender (`replaceTrack`, no new negotiation) and in the sharer's own preview; Duet's
//! button, the browser's own "stop sharing" (the track ends), hanging up or the other person
//! leaving put the camera back. The camera track itself is never touched, so it comes back as
//! it was: a camera turned off before or during sharing is still off. A fresh link made while
//! sharing gets the screen again.

use super::io::Action;
use super::machine::{Machine, Media};

/// Where sharing is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Screen {
    /// The camera is sent.
    #[default]
    Off,
    /// The browser's picker is open (getDisplayMedia of the request `screen_id`); `withdrawn`
    /// when the user toggled again meanwhile, so a grant is stopped, not shown.
    Asking { withdrawn: bool },
    /// The screen is sent.
    On,
}

impl Machine {
    /// The share button or the `s` key.
    pub(super) fn toggle_screen(&mut self) {
        match self.screen {
            // Only with a link to send on and the local media in place (its video sender is
            // what the screen replaces).
            Screen::Off if self.media == Media::Ready && self.link.is_some() => {
                self.screen_id = self.next_id();
                self.screen = Screen::Asking { withdrawn: false };
                self.act(Action::CaptureScreen(self.screen_id));
            }
            Screen::Off => {}
            Screen::Asking { withdrawn } => {
                self.screen = Screen::Asking {
                    withdrawn: !withdrawn,
                }
            }
            Screen::On => self.stop_sharing(),
        }
    }

    /// getDisplayMedia of request `id` gave a screen track (the session holds it).
    pub(super) fn screen_granted(&mut self, id: u64) {
        if id != self.screen_id {
            return;
        }
        if self.screen == (Screen::Asking { withdrawn: false }) && self.link.is_some() {
            self.screen = Screen::On;
            self.act(Action::SendScreen);
        } else {
            // Withdrawn, or the call went away while the picker was open.
            self.screen = Screen::Off;
            self.act(Action::StopScreen);
        }
    }

    /// getDisplayMedia of request `id` was refused or the picker cancelled.
    pub(super) fn screen_refused(&mut self, id: u64) {
        if id == self.screen_id && matches!(self.screen, Screen::Asking { .. }) {
            self.screen = Screen::Off;
        }
    }

    /// The screen track of request `id` ended (the browser's "stop sharing").
    pub(super) fn screen_ended(&mut self, id: u64) {
        if id == self.screen_id && self.screen == Screen::On {
            self.stop_sharing();
        }
    }

    /// Puts the camera back; a grant still to come is stopped.
    pub(super) fn stop_sharing(&mut self) {
        match self.screen {
            Screen::On => {
                self.screen = Screen::Off;
                self.act(Action::StopScreen);
            }
            Screen::Asking { .. } => self.screen = Screen::Asking { withdrawn: true },
            Screen::Off => {}
        }
    }

    /// A fresh link was opened (it carries the camera): send it the screen instead.
    pub(super) fn share_on_new_link(&mut self) {
        if self.screen == Screen::On {
            self.act(Action::SendScreen);
        }
    }
}
