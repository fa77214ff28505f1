//! The call session: one loop that owns the media, the peer link and the signaling connection,
//! reacts to what they and the user report, and writes the outcome into [`CallView`] signals.
//!
//! Everything arrives as an [`Input`] on one channel and is handled to completion before the next
//! (awaiting the browser's promises in between), so offers, answers and candidates are applied in
//! the order they came and no two negotiations interleave. This module holds the loop, joining
//! and hanging up; [`room`] what the room and the peer link report, [`timers`] the deadlines,
//! [`controls`] device switching and the room link.
//!
//! The steps of a call set-up leave `performance.mark`s named `duet:…` (see [`mark`]), so a
//! browser's performance timeline shows where set-up time goes.

mod controls;
mod room;
mod timers;

use std::time::Duration;

use duet_protocol::ClientMessage;
use duet_protocol::signaling::{JoinRoom, ServerMessage, SessionDescription};
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::{FutureExt, StreamExt};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use self::timers::TimerKind;
use crate::call::{Call, CallEvent, Phase, Problem};
use crate::config::{self, IceServer, Settings};
use crate::media::{self, Device, DeviceWatcher, Kind, LocalMedia, MediaRequest};
use crate::peer::{PeerEvent, PeerLink};
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

enum Input {
    Signal(u64, SignalingEvent),
    Peer(u64, PeerEvent),
    Timer(TimerKind, u64),
    DevicesChanged,
    /// The device list read after joining (kept off the join's critical path).
    Devices(u64, Vec<Device>),
    /// getUserMedia answered for the join of this generation.
    Media(u64, Result<media::Acquired, media::MediaError>),
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
    /// Tags events of the current signaling connection (and the device list read for the
    /// current join), so those of one already replaced are ignored.
    signaling_gen: u64,
    watcher: Option<DeviceWatcher>,
    /// The camera was asked for and has not answered yet.
    media_pending: bool,
    /// An offer that came while the camera was starting: answered once it is ready.
    held_offer: Option<SessionDescription>,
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
        media_pending: false,
        held_offer: None,
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

/// Leaves a `performance.mark` for set-up timing (`duet:media-ready`, `duet:joined`, …).
pub(crate) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
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

    /// Joins a room without waiting for the camera. getUserMedia (a few hundred ms even with a
    /// fake device), the signaling connection and the ICE configuration all start at once; the
    /// room is joined as soon as the connection is up, and a first offer goes out with senders
    /// that get their tracks when the camera is ready ([`PeerLink::add_waiting_senders`]). An
    /// offer that arrives before the camera waits for it, so the answer carries our media.
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
        self.view.mic_on.set(true);
        self.view.cam_on.set(true);

        self.connect_signaling();
        let generation = self.signaling_gen;
        let tx = self.tx.clone();
        let request = self.media_request.clone();
        self.media_pending = true;
        wasm_bindgen_futures::spawn_local(async move {
            let acquired = media::acquire(&request).await;
            let _ = tx.unbounded_send(Input::Media(generation, acquired));
        });
        if self.ice.is_none() {
            self.ice = Some(config::load_ice_servers(self.settings.ice).await);
        }
        // The peer connection is opened once join_room is out (see on_signal): its 10-30 ms
        // then overlap the server's answer instead of delaying the join.
    }

    /// The camera and microphone answered (see [`Session::join`]).
    async fn on_media(&mut self, acquired: Result<media::Acquired, media::MediaError>) {
        self.media_pending = false;
        let acquired = match acquired {
            Ok(a) => a,
            Err(e) => {
                self.release();
                self.apply(CallEvent::Failed(e.to_problem(secure_url())));
                return;
            }
        };
        mark("duet:media-ready");
        let media = acquired.media;
        media.set_enabled(Kind::Audio, self.view.mic_on.get_untracked());
        media.set_enabled(Kind::Video, self.view.cam_on.get_untracked());
        self.view.has_mic.set(media.track(Kind::Audio).is_some());
        self.view.has_cam.set(media.track(Kind::Video).is_some());
        self.view
            .local_stream
            .set(Some(Clone::clone(media.stream())));
        self.view.camera_id.set(media.device_id(Kind::Video));
        self.view.mic_id.set(media.device_id(Kind::Audio));
        if let Some(link) = &self.link
            && let Err(e) = link.attach_local(&media).await
        {
            web_sys::console::warn_1(&format!("local media: {e}").into());
        }
        self.media = Some(media);
        self.apply(CallEvent::MediaReady(acquired.notice));

        let tx = self.tx.clone();
        self.watcher = Some(DeviceWatcher::new(move || {
            let _ = tx.unbounded_send(Input::DevicesChanged);
        }));
        let tx = self.tx.clone();
        let generation = self.signaling_gen;
        wasm_bindgen_futures::spawn_local(async move {
            let _ = tx.unbounded_send(Input::Devices(generation, media::devices().await));
        });
        if let Some(offer) = self.held_offer.take() {
            self.on_message(ServerMessage::Offer(offer)).await;
        }
    }

    /// Opens a fresh signaling connection; its events carry a new generation.
    fn connect_signaling(&mut self) {
        self.close_signaling();
        let generation = self.signaling_gen;
        let tx = self.tx.clone();
        self.signaling = Some(SignalingClient::connect(
            &self.settings.signaling_url,
            move |ev| {
                let _ = tx.unbounded_send(Input::Signal(generation, ev));
            },
        ));
    }

    /// Closes the signaling connection without leaving the room (nothing was joined yet), and
    /// makes any of its events still queued stale.
    fn close_signaling(&mut self) {
        if let Some(s) = self.signaling.take() {
            s.close();
        }
        self.signaling_gen += 1;
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
        if self.settings.ice.relay_only() {
            link.set_relay_only()
                .map_err(|e| Problem::PeerFailed(e.to_string()))?;
        }
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
        self.media_pending = false;
        self.held_offer = None;
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
            Input::Devices(generation, list) if generation == self.signaling_gen => {
                self.view.devices.set(list)
            }
            Input::Media(generation, acquired) if generation == self.signaling_gen => {
                self.on_media(acquired).await
            }
            // From a connection, link or join already replaced (late media stops as it drops).
            _ => {}
        }
    }

    async fn on_signal(&mut self, ev: SignalingEvent) {
        match ev {
            SignalingEvent::Connected => {
                mark("duet:signaling-up");
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
                if self.link.is_none()
                    && let Err(p) = self.fresh_link()
                {
                    self.release();
                    self.apply(CallEvent::Failed(p));
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
