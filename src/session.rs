//! The call session: one loop that owns the media, the peer link and the signaling connection,
//! reacts to what they and the user report, and writes the outcome into [`CallView`] signals.
//!
//! Everything arrives as an [`Input`] on one channel and is handled to completion before the next
//! (awaiting the browser's promises in between), so offers, answers and candidates are applied in
//! the order they came and no two negotiations interleave.

use std::time::Duration;

use duet_protocol::ClientMessage;
use duet_protocol::signaling::{JoinRoom, ServerMessage};
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::{FutureExt, StreamExt};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use crate::call::{Call, CallEvent, JoinAction, Phase, Problem, Role};
use crate::config::{self, IceServer, Settings};
use crate::media::{self, DeviceWatcher, Kind, LocalMedia, MediaRequest};
use crate::peer::{LinkState, PeerEvent, PeerLink};
use crate::signaling::{SignalingClient, SignalingEvent};
pub use crate::view::{CallView, Commands, UiCommand};

/// How long a connection may stay `disconnected` before ICE is restarted.
pub const DISCONNECT_GRACE: Duration = Duration::from_secs(5);
/// After `user_exit` with the call up: packets already in flight when the other person hung up
/// (and stats cached by the browser) still arrive for a moment, so the first reading waits.
pub const EXIT_SETTLE: Duration = Duration::from_millis(500);
/// Then how long to watch whether media still arrives: fake and real media send dozens of
/// packets a second, so a second of none means nobody is sending.
pub const EXIT_CHECK: Duration = Duration::from_millis(1000);
/// How long an ICE-restart offer may wait for an answer. A live peer answers within a signaling
/// round trip; silence means nobody is there (the seed's server never says who left).
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(4);
/// How long an ICE restart may take before the other person counts as gone.
pub const RESTART_DEADLINE: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy)]
enum TimerKind {
    DisconnectGrace,
    RestartDeadline,
    /// The ICE-restart offer went out over a live signaling connection and nobody answered.
    AnswerDeadline,
    /// Settling after `user_exit` before the first packet count.
    ExitSettle,
    /// Holds the inbound packet count taken after settling.
    ExitCheck(u64),
}

enum Input {
    Signal(u64, SignalingEvent),
    Peer(u64, PeerEvent),
    Timer(TimerKind, u64),
    DevicesChanged,
}

struct Session {
    view: CallView,
    settings: Settings,
    tx: UnboundedSender<Input>,
    name: String,
    media_request: MediaRequest,
    ice: Option<Vec<IceServer>>,
    media: Option<LocalMedia>,
    link: Option<PeerLink>,
    signaling: Option<SignalingClient>,
    signaling_gen: u64,
    watcher: Option<DeviceWatcher>,
    grace_timer: Option<Timeout>,
    restart_timer: Option<Timeout>,
    exit_timer: Option<Timeout>,
    answer_timer: Option<Timeout>,
}

/// Runs the session until every [`Commands`] handle is dropped (the app unmounted), then hangs
/// up. `media_request` picks devices (tests pass impossible ones to exercise failures).
pub async fn run(
    settings: Settings,
    media_request: MediaRequest,
    view: CallView,
    mut ui: UnboundedReceiver<UiCommand>,
) {
    let (tx, mut rx) = mpsc::unbounded();
    let mut s = Session {
        view,
        name: settings.name.clone(),
        settings,
        tx,
        media_request,
        ice: None,
        media: None,
        link: None,
        signaling: None,
        signaling_gen: 0,
        watcher: None,
        grace_timer: None,
        restart_timer: None,
        exit_timer: None,
        answer_timer: None,
    };
    loop {
        futures::select_biased! {
            cmd = ui.next() => match cmd {
                Some(UiCommand::Shutdown) | None => break,
                Some(cmd) => s.on_ui(cmd).await,
            },
            input = rx.next().fuse() => match input {
                Some(input) => s.on_input(input).await,
                None => break,
            },
        }
    }
    s.release();
}

impl Session {
    fn apply(&self, ev: CallEvent) {
        self.view.call.update(|c| c.apply(ev));
    }

    fn phase(&self) -> Phase {
        self.view.call.with_untracked(Call::phase)
    }

    fn send(&self, msg: &ClientMessage) {
        if let Some(s) = &self.signaling {
            s.send(msg);
        }
    }

    async fn on_ui(&mut self, cmd: UiCommand) {
        // A flash message answers the previous action; the next one clears it.
        self.view.flash.set(None);
        match cmd {
            UiCommand::Join { room, name } => self.join(room, name).await,
            UiCommand::HangUp => {
                self.release();
                self.apply(CallEvent::HangUp);
            }
            UiCommand::ToggleMic => {
                let on = !self.view.mic_on.get_untracked();
                if let Some(m) = &self.media {
                    m.set_enabled(Kind::Audio, on);
                }
                self.view.mic_on.set(on);
            }
            UiCommand::ToggleCamera => {
                let on = !self.view.cam_on.get_untracked();
                if let Some(m) = &self.media {
                    m.set_enabled(Kind::Video, on);
                }
                self.view.cam_on.set(on);
            }
            UiCommand::SelectDevice { kind, id } => self.switch_device(kind, &id).await,
            UiCommand::CopyLink => self.copy_link().await,
            UiCommand::Shutdown => self.release(),
        }
    }

    async fn join(&mut self, room: String, name: String) {
        self.release();
        if duet_protocol::signaling::validate_room(&room).is_err() {
            self.apply(CallEvent::Join { room });
            self.apply(CallEvent::Failed(Problem::BadRoom));
            return;
        }
        self.name = name.clone();
        self.view.room_input.set(room.clone());
        self.view.name_input.set(name.clone());
        set_url_query(&config::query_with(&current_query(), &room, Some(&name)));
        self.apply(CallEvent::Join { room: room.clone() });

        let acquired = match media::acquire(&self.media_request).await {
            Ok(a) => a,
            Err(e) => {
                self.apply(CallEvent::Failed(e.to_problem(secure_url())));
                return;
            }
        };
        let media = acquired.media;
        self.view.has_mic.set(media.track(Kind::Audio).is_some());
        self.view.has_cam.set(media.track(Kind::Video).is_some());
        self.view.mic_on.set(true);
        self.view.cam_on.set(true);
        self.view
            .local_stream
            .set(Some(Clone::clone(media.stream())));
        self.view.camera_id.set(media.device_id(Kind::Video));
        self.view.mic_id.set(media.device_id(Kind::Audio));
        self.media = Some(media);
        self.apply(CallEvent::MediaReady(acquired.notice));

        let tx = self.tx.clone();
        self.watcher = Some(DeviceWatcher::new(move || {
            let _ = tx.unbounded_send(Input::DevicesChanged);
        }));
        self.view.devices.set(media::devices().await);

        if self.ice.is_none() {
            self.ice = Some(config::load_ice_servers(self.settings.ice).await);
        }
        if let Err(p) = self.fresh_link() {
            self.apply(CallEvent::Failed(p));
            return;
        }
        self.signaling_gen += 1;
        let generation = self.signaling_gen;
        let tx = self.tx.clone();
        self.signaling = Some(SignalingClient::connect(
            &self.settings.signaling_url,
            move |ev| {
                let _ = tx.unbounded_send(Input::Signal(generation, ev));
            },
        ));
    }

    /// Replaces the peer link with a fresh one carrying the local tracks.
    fn fresh_link(&mut self) -> Result<(), Problem> {
        self.grace_timer = None;
        self.restart_timer = None;
        self.exit_timer = None;
        self.answer_timer = None;
        if let Some(mut old) = self.link.take() {
            old.close();
        }
        self.view.remote_stream.set(None);
        let tx = self.tx.clone();
        let link = PeerLink::new(self.ice.as_deref().unwrap_or_default(), move |id, ev| {
            let _ = tx.unbounded_send(Input::Peer(id, ev));
        })
        .map_err(|e| Problem::PeerFailed(e.to_string()))?;
        if let Some(m) = &self.media {
            link.add_local(m);
        }
        self.link = Some(link);
        Ok(())
    }

    /// Hangs up: leaves the room, closes everything, stops the camera.
    fn release(&mut self) {
        if let Some(s) = self.signaling.take() {
            s.send(&ClientMessage::LeaveRoom);
            s.close();
        }
        self.signaling_gen += 1;
        self.grace_timer = None;
        self.restart_timer = None;
        self.exit_timer = None;
        self.answer_timer = None;
        self.watcher = None;
        if let Some(mut l) = self.link.take() {
            l.close();
        }
        if let Some(m) = self.media.take() {
            m.stop();
        }
        self.view.local_stream.set(None);
        self.view.remote_stream.set(None);
        self.view.has_mic.set(false);
        self.view.has_cam.set(false);
    }

    async fn on_input(&mut self, input: Input) {
        match input {
            Input::Signal(generation, ev) if generation == self.signaling_gen => {
                self.on_signal(ev).await
            }
            Input::Peer(id, ev) if self.link.as_ref().is_some_and(|l| l.id() == id) => {
                self.on_peer(ev).await
            }
            Input::Timer(kind, id) if self.link.as_ref().is_some_and(|l| l.id() == id) => {
                self.on_timer(kind).await
            }
            Input::DevicesChanged => self.on_devices_changed().await,
            _ => {} // From a connection or link already replaced.
        }
    }

    async fn on_signal(&mut self, ev: SignalingEvent) {
        match ev {
            SignalingEvent::Connected => {
                self.apply(CallEvent::SignalingUp);
                let room = self
                    .view
                    .call
                    .with_untracked(|c| c.room().map(str::to_owned));
                if let Some(room) = room {
                    self.send(&ClientMessage::JoinRoom(JoinRoom {
                        room,
                        email: self.name.clone(),
                    }));
                }
            }
            SignalingEvent::Down { retry_in } => {
                self.apply(CallEvent::SignalingDown {
                    retry_in_s: retry_in.as_secs_f64().ceil() as u64,
                });
            }
            SignalingEvent::Closed(why) => {
                self.release();
                self.apply(CallEvent::Failed(Problem::ServerRejected(why)));
            }
            SignalingEvent::Garbage(why) => {
                web_sys::console::warn_1(&format!("signaling: dropped: {why}").into());
            }
            SignalingEvent::Message(m) => self.on_message(m).await,
        }
    }

    async fn on_message(&mut self, m: ServerMessage) {
        match m {
            ServerMessage::AllUsers(users) => {
                let names: Vec<String> = users.into_iter().map(|u| u.email).collect();
                let up = self.link.as_ref().is_some_and(PeerLink::is_connected);
                let mut action = JoinAction::Wait;
                self.view.call.update(|c| action = c.joined(&names, up));
                match action {
                    JoinAction::KeepCall => {}
                    JoinAction::Wait => {
                        if !up && let Err(p) = self.fresh_link() {
                            self.apply(CallEvent::Failed(p));
                        }
                    }
                    JoinAction::Offer => {
                        if let Err(p) = self.fresh_link() {
                            self.apply(CallEvent::Failed(p));
                            return;
                        }
                        self.offer(false).await;
                    }
                }
            }
            ServerMessage::Offer(offer) => {
                if !self.phase().in_room() {
                    return;
                }
                self.apply(CallEvent::OfferReceived);
                let polite = self.view.call.with_untracked(|c| c.role()) != Some(Role::Impolite);
                let Some(link) = self.link.as_mut() else {
                    return;
                };
                match link.accept_offer(&offer, polite).await {
                    Ok(Some(answer)) => self.send(&ClientMessage::Answer(answer)),
                    Ok(None) => {}
                    Err(e) => web_sys::console::warn_1(&format!("offer: {e}").into()),
                }
            }
            ServerMessage::Answer(answer) => {
                if let Some(link) = self.link.as_mut()
                    && let Err(e) = link.accept_answer(&answer).await
                {
                    web_sys::console::warn_1(&format!("answer: {e}").into());
                }
            }
            ServerMessage::Candidate(c) => {
                if let Some(link) = self.link.as_mut()
                    && let Err(e) = link.add_candidate(c).await
                {
                    web_sys::console::warn_1(&format!("candidate: {e}").into());
                }
            }
            ServerMessage::UserExit(_) => {
                if !matches!(
                    self.phase(),
                    Phase::Connecting | Phase::Connected | Phase::Reconnecting
                ) {
                    return;
                }
                // The server only knows the other person's socket closed. If media still flows,
                // it was their signaling that dropped (they will rejoin) and the call goes on;
                // a hang-up stops the media at once.
                match &self.link {
                    Some(link) if link.is_connected() => {
                        self.exit_timer = Some(self.timer(TimerKind::ExitSettle, EXIT_SETTLE));
                    }
                    _ => self.peer_gone(false),
                }
            }
            ServerMessage::RoomFull => {
                self.release();
                self.apply(CallEvent::RoomFull);
            }
            ServerMessage::Error(notice) => {
                web_sys::console::warn_1(
                    &format!("server refused: {} {}", notice.code, notice.message).into(),
                );
                match notice.code.as_str() {
                    "bad_room" => {
                        self.release();
                        self.apply(CallEvent::Failed(Problem::BadRoom));
                    }
                    // The server cannot take us at all: retrying at once would only add load.
                    "server_full" => {
                        self.release();
                        self.apply(CallEvent::Failed(Problem::ServerRejected(
                            "it is at capacity; try again in a few minutes".to_owned(),
                        )));
                    }
                    // Anything else (rate_limited, not_in_room, …) concerns one message.
                    _ => {}
                }
            }
        }
    }

    fn peer_gone(&mut self, lost: bool) {
        self.apply(CallEvent::PeerGone { lost });
        if let Err(p) = self.fresh_link() {
            self.apply(CallEvent::Failed(p));
        }
    }

    async fn offer(&mut self, ice_restart: bool) {
        let Some(link) = &self.link else { return };
        match link.make_offer(ice_restart).await {
            Ok(offer) => self.send(&ClientMessage::Offer(offer)),
            Err(e) => web_sys::console::warn_1(&format!("offer: {e}").into()),
        }
    }

    async fn on_peer(&mut self, ev: PeerEvent) {
        match ev {
            PeerEvent::Candidate(c) => self.send(&ClientMessage::Candidate(c)),
            PeerEvent::RemoteStream(s) => self.view.remote_stream.set(Some(s)),
            PeerEvent::State(LinkState::Connected) => {
                self.grace_timer = None;
                self.restart_timer = None;
                self.answer_timer = None;
                self.apply(CallEvent::PeerConnected);
            }
            PeerEvent::State(LinkState::Disconnected) => {
                self.apply(CallEvent::PeerInterrupted);
                if self.grace_timer.is_none() {
                    self.grace_timer =
                        Some(self.timer(TimerKind::DisconnectGrace, DISCONNECT_GRACE));
                }
            }
            PeerEvent::State(LinkState::Failed) => {
                self.apply(CallEvent::PeerInterrupted);
                self.restart_ice().await;
            }
            PeerEvent::State(_) => {}
        }
    }

    async fn restart_ice(&mut self) {
        if self.restart_timer.is_none() {
            self.restart_timer = Some(self.timer(TimerKind::RestartDeadline, RESTART_DEADLINE));
        }
        let signaling_up = self
            .signaling
            .as_ref()
            .is_some_and(SignalingClient::is_connected);
        self.offer(true).await;
        if signaling_up {
            self.answer_timer = Some(self.timer(TimerKind::AnswerDeadline, ANSWER_DEADLINE));
        }
    }

    async fn on_timer(&mut self, kind: TimerKind) {
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

    fn timer(&self, kind: TimerKind, after: Duration) -> Timeout {
        let tx = self.tx.clone();
        let id = self.link.as_ref().map(PeerLink::id).unwrap_or_default();
        Timeout::new(after.as_millis() as u32, move || {
            let _ = tx.unbounded_send(Input::Timer(kind, id));
        })
    }

    async fn switch_device(&mut self, kind: Kind, id: &str) {
        let Some(media) = &self.media else { return };
        match media.switch_device(kind, id).await {
            Ok(track) => {
                if let Some(link) = &self.link
                    && let Err(e) = link.replace_track(&track).await
                {
                    web_sys::console::warn_1(&format!("replaceTrack: {e}").into());
                }
                // The element keeps the same stream object; re-set it so it shows the new track.
                self.view
                    .local_stream
                    .set(Some(Clone::clone(media.stream())));
                let current = media.device_id(kind);
                match kind {
                    Kind::Audio => self.view.mic_id.set(current),
                    Kind::Video => self.view.camera_id.set(current),
                }
            }
            Err(e) => {
                let problem = e.to_problem(secure_url());
                self.view.flash.set(Some(format!(
                    "Could not switch {}: {problem}",
                    kind.as_str()
                )));
            }
        }
    }

    /// A device was plugged in or out: refresh the pickers, and if the device in use vanished
    /// (its track ended), switch to another of the same kind.
    async fn on_devices_changed(&mut self) {
        let list = media::devices().await;
        self.view.devices.set(list.clone());
        for kind in [Kind::Audio, Kind::Video] {
            let ended = self
                .media
                .as_ref()
                .and_then(|m| m.track(kind))
                .is_some_and(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended);
            if ended && let Some(d) = list.iter().find(|d| d.kind == kind) {
                let id = d.id.clone();
                self.switch_device(kind, &id).await;
            }
        }
    }

    async fn copy_link(&mut self) {
        let room = self
            .view
            .call
            .with_untracked(|c| c.room().map(str::to_owned));
        let Some(room) = room.filter(|r| !r.is_empty()) else {
            return;
        };
        let Some(window) = web_sys::window() else {
            return;
        };
        let loc = window.location();
        let link = format!(
            "{}{}{}",
            loc.origin().unwrap_or_default(),
            loc.pathname().unwrap_or_default(),
            config::query_with(&current_query(), &room, None)
        );
        let copied =
            wasm_bindgen_futures::JsFuture::from(window.navigator().clipboard().write_text(&link))
                .await
                .is_ok();
        self.view.flash.set(Some(if copied {
            "Link copied. Send it to the person you want to call.".to_owned()
        } else {
            format!("Copy this link: {link}")
        }));
    }
}

fn current_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

fn set_url_query(query: &str) {
    if let Some(w) = web_sys::window()
        && let Ok(history) = w.history()
    {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(query));
    }
}

/// For the insecure-context message: the same page over https.
fn secure_url() -> Option<String> {
    let loc = web_sys::window()?.location();
    Some(format!(
        "https://{}{}{}",
        loc.host().ok()?,
        loc.pathname().ok()?,
        loc.search().ok()?
    ))
}
