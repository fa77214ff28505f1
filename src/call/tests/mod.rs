//! Native tests of the call machine with a fake clock: every path the end-to-end suite takes
//! (and the recovery rules it cannot reach quickly), as sequences of inputs and the actions and
//! view they must produce.

mod calls;
mod chat;
mod files;
mod insight;
mod recovery;
mod screen;
mod warm;
mod words;

use std::time::Duration;

use duet_protocol::ClientMessage;
use duet_protocol::signaling::{
    ErrorNotice, IceCandidate, JoinRoom, SdpType, ServerMessage, SessionDescription, User, UserExit,
};

use super::*;

/// A machine, its clock, and the resource numbers its last actions handed out.
struct Page {
    m: Machine,
    now: Duration,
    media: u64,
    signaling: u64,
    link: u64,
    /// What the insight part asked for (`ReadStats`, `WorkOutSafetyCode`), kept apart from the
    /// call's own actions and left unanswered unless a test answers.
    insight: Vec<Action>,
}

impl Page {
    fn new() -> Self {
        Self {
            m: Machine::new(),
            now: Duration::from_secs(1000),
            media: 0,
            signaling: 0,
            link: 0,
            insight: Vec::new(),
        }
    }

    /// Feeds an input; returns the actions, remembering the numbers they hand out.
    fn feed(&mut self, input: Input) -> Vec<Action> {
        self.m.handle(input, self.now);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(a) = self.m.poll_action() {
            match a {
                Action::AcquireMedia(id) => self.media = id,
                Action::OpenSignaling(id) => self.signaling = id,
                Action::OpenLink(id) => self.link = id,
                Action::ReadStats | Action::WorkOutSafetyCode => {
                    self.insight.push(a);
                    continue;
                }
                _ => {}
            }
            out.push(a);
        }
        out
    }

    /// Lets `d` pass, running every deadline due on the way; returns the actions.
    fn wait(&mut self, d: Duration) -> Vec<Action> {
        let end = self.now + d;
        let mut out = Vec::new();
        while let Some(at) = self.m.poll_timeout().filter(|&at| at <= end) {
            self.now = self.now.max(at);
            self.m.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = end;
        out
    }

    fn server(&mut self, m: ServerMessage) -> Vec<Action> {
        self.feed(Input::Server(self.signaling, m))
    }

    fn link(&mut self, ev: LinkInput) -> Vec<Action> {
        self.feed(Input::Link(self.link, ev))
    }

    fn state(&mut self, s: LinkState) -> Vec<Action> {
        self.link(LinkInput::State(s))
    }

    fn join(&mut self, room: &str, name: &str) -> Vec<Action> {
        self.feed(Input::Join {
            room: room.into(),
            name: name.into(),
        })
    }

    fn media_ready(&mut self) -> Vec<Action> {
        self.feed(Input::MediaReady(self.media, None))
    }

    fn signaling_up(&mut self) -> Vec<Action> {
        self.feed(Input::SignalingUp(self.signaling))
    }

    /// The call's next deadline (recovery, exit check), stats readings left out.
    fn deadline(&self) -> Option<Duration> {
        self.m.call_deadline()
    }

    fn phase(&self) -> Phase {
        self.m.phase()
    }

    fn problem(&self) -> Option<Problem> {
        self.m.view().problem().cloned()
    }

    fn text(&self) -> String {
        self.m.view().status_text()
    }

    /// A page of the release bundle before its later module brought the chat's and the
    /// transfers' code ([`crate::call::PartsCode`]).
    fn before_parts() -> Self {
        let mut p = Self::new();
        p.m.parts_code = None;
        p
    }

    /// Joined room `r1` as `ann` with the camera ready and signaling up.
    fn in_room(name: &str) -> Self {
        Self::new().joined(name)
    }

    /// This page, joined as [`Page::in_room`] says.
    fn joined(self, name: &str) -> Self {
        let mut p = self;
        p.join("r1", name);
        p.media_ready();
        p.signaling_up();
        p
    }

    /// First in the room, waiting.
    fn waiting() -> Self {
        let mut p = Self::in_room("ann");
        p.server(all_users(&[]));
        assert_eq!(p.phase(), Phase::Waiting);
        p
    }

    /// Joined second and in a call with `ann`, as the offerer.
    fn in_call() -> Self {
        Self::new().called()
    }

    /// This page, in a call as [`Page::in_call`] says.
    fn called(self) -> Self {
        let mut p = self.joined("bob");
        p.server(all_users(&["ann"]));
        p.link(LinkInput::Described(offer("B1")));
        p.server(ServerMessage::Answer(answer("A1")));
        p.state(LinkState::Connected);
        assert_eq!(p.phase(), Phase::Connected);
        p
    }
}

/// `all_users` as the original server sends it (no capabilities).
fn all_users(names: &[&str]) -> ServerMessage {
    all_users_with(names, false)
}

/// `all_users` listing members that advertised `warmOffer` or not.
fn all_users_with(names: &[&str], warm_offer: bool) -> ServerMessage {
    ServerMessage::AllUsers(
        names
            .iter()
            .map(|n| User {
                id: format!("id-{n}"),
                email: (*n).into(),
                warm_offer,
            })
            .collect(),
    )
}

/// `user_joined` of a joiner without `warmOffer` (the original client).
fn user_joined(name: &str) -> ServerMessage {
    user_joined_with(name, false)
}

fn user_joined_with(name: &str, warm_offer: bool) -> ServerMessage {
    ServerMessage::UserJoined(User {
        id: "id-x".into(),
        email: name.into(),
        warm_offer,
    })
}

fn user_exit() -> ServerMessage {
    ServerMessage::UserExit(UserExit { id: "id-x".into() })
}

fn error(code: &str) -> ServerMessage {
    ServerMessage::Error(ErrorNotice {
        code: code.into(),
        message: String::new(),
    })
}

/// A description whose DTLS certificate (so whose connection) is `cert`.
fn desc(kind: SdpType, cert: &str) -> SessionDescription {
    SessionDescription {
        kind,
        sdp: format!("v=0\r\na=fingerprint:sha-256 {cert}\r\n"),
    }
}

fn offer(cert: &str) -> SessionDescription {
    desc(SdpType::Offer, cert)
}

fn answer(cert: &str) -> SessionDescription {
    desc(SdpType::Answer, cert)
}

fn candidate() -> IceCandidate {
    IceCandidate {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    }
}

fn has(actions: &[Action], want: &Action) -> bool {
    actions.contains(want)
}

fn offers(actions: &[Action]) -> Vec<bool> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::MakeOffer { ice_restart } => Some(*ice_restart),
            _ => None,
        })
        .collect()
}

fn accepts(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::AcceptOffer(_)))
        .count()
}

fn sends_join(actions: &[Action], room: &str, name: &str) -> bool {
    has(
        actions,
        &Action::Send(ClientMessage::JoinRoom(JoinRoom {
            room: room.into(),
            email: name.into(),
            warm_offer: true,
        })),
    )
}
