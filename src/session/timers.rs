//! The session's deadlines: how long a dropped connection may take to come back, how long an
//! ICE-restart offer may wait for an answer, and the media check after `user_exit`.

use std::time::Duration;

use gloo_timers::callback::Timeout;

use super::{EXIT_CHECK, Input, Session};
use crate::peer::PeerLink;

#[derive(Debug, Clone, Copy)]
pub(super) enum TimerKind {
    DisconnectGrace,
    RestartDeadline,
    /// The ICE-restart offer went out over a live signaling connection and nobody answered.
    AnswerDeadline,
    /// Settling after `user_exit` before the first packet count.
    ExitSettle,
    /// Holds the inbound packet count taken after settling.
    ExitCheck(u64),
}

impl Session {
    pub(super) async fn on_timer(&mut self, kind: TimerKind) {
        if let TimerKind::ExitSettle = kind {
            self.exit_timer = None;
            match &self.link {
                Some(link) if link.is_connected() => {
                    let packets = link.packets_received().await;
                    self.exit_timer = Some(self.timer(TimerKind::ExitCheck(packets), EXIT_CHECK));
                }
                _ => self.peer_gone(false),
            }
            return;
        }
        if let TimerKind::ExitCheck(before) = kind {
            self.exit_timer = None;
            let now = match &self.link {
                Some(link) => link.packets_received().await,
                None => return,
            };
            if now <= before {
                self.peer_gone(false);
            }
            return;
        }
        let connected = self.link.as_ref().is_some_and(PeerLink::is_connected);
        if connected {
            return;
        }
        match kind {
            TimerKind::ExitSettle | TimerKind::ExitCheck(_) => {}
            TimerKind::DisconnectGrace => {
                self.grace_timer = None;
                self.restart_ice().await;
            }
            TimerKind::RestartDeadline => self.peer_gone(true),
            TimerKind::AnswerDeadline => {
                self.answer_timer = None;
                if self.link.as_ref().is_some_and(PeerLink::awaiting_answer) {
                    self.peer_gone(true);
                }
            }
        }
    }

    pub(super) fn timer(&self, kind: TimerKind, after: Duration) -> Timeout {
        let tx = self.tx.clone();
        let id = self.link.as_ref().map(PeerLink::id).unwrap_or_default();
        Timeout::new(after.as_millis() as u32, move || {
            let _ = tx.unbounded_send(Input::Timer(kind, id));
        })
    }
}
