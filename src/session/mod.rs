//! The call session: drives the call [`Machine`] with what the browser reports and carries out
//! what it decides with web-sys. It owns the resources (camera, peer link, signaling
//! connection, one timer) and makes no decision of its own about the call: those are the
//! machine's, tested natively.
//!
//! Everything arrives as an [`Event`] on one channel and is handled to completion before the
//! next (awaiting the browser's promises in between), so offers, answers and candidates are
//! applied in the order they came and no two negotiations interleave. Handling an event only
//! hands inputs to the machine; the loop then carries out its actions in one place
//! ([`Session::drive`]), so the bundle has one copy of that async code, not one per event. This module holds the
//! loop and the user's commands; [`actions`] carries out the machine's actions; [`controls`]
//! device switching and the room link; [`screen`] the screen share's track; [`files`] the
//! file transfers' browser side. The last three load after the first frame, reached through
//! [`later`].
//!
//! The steps of a call set-up leave `performance.mark`s named `duet:…` (see [`mark`]), so a
//! browser's performance timeline shows where set-up time goes.

mod actions;
mod controls;
mod files;
mod later;

use later::Work;
mod screen;

use futures::StreamExt;
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use web_sys::{MediaStream, MediaStreamTrack};

pub use crate::call::{ANSWER_DEADLINE, DISCONNECT_GRACE, EXIT_CHECK, EXIT_SETTLE};
use crate::call::{Input, Machine};
use crate::config::{self, IceServer, Settings};
use crate::media::{self, DeviceWatcher, LocalMedia, MediaRequest};
use crate::peer::PeerLink;
use crate::signaling::{SignalingClient, now};
pub use crate::view::{CallView, Commands, UiCommand};
pub use later::{Hook, hook};

/// What reaches the session loop besides the user's commands.
enum Event {
    /// For the machine.
    Call(Input),
    /// The machine's deadline is due.
    Tick,
    /// A camera or microphone was plugged in or out.
    DevicesChanged,
    /// The device list read after the camera request of this number answered.
    Devices(u64, Option<js_sys::Array>),
    /// getUserMedia answered the request of this number.
    Media(u64, Result<media::Acquired, media::MediaError>),
    /// The link of this number has a remote stream (again, when a track was added).
    Remote(u64, MediaStream),
    /// getDisplayMedia answered the screen request of this number (`None`: refused).
    Screen(u64, Option<MediaStream>),
    /// A binary chunk on the file channel of the link of this number.
    Chunk(u64, js_sys::ArrayBuffer),
    /// A slice of outgoing file `.0` from byte `.1` was read (`None`: it could not be).
    Slice(u32, u64, Option<js_sys::ArrayBuffer>),
    /// The module that loads after the first frame is here ([`crate::extras`]).
    Loaded(&'static crate::extras::Later),
}

struct Session {
    view: CallView,
    settings: Settings,
    tx: UnboundedSender<Event>,
    media_request: MediaRequest,
    ice: Option<Vec<IceServer>>,
    machine: Machine,
    /// The camera request in flight or answered (the machine's number for it).
    acquiring: u64,
    media: Option<LocalMedia>,
    link: Option<(u64, PeerLink)>,
    signaling: Option<SignalingClient>,
    watcher: Option<DeviceWatcher>,
    timer: Option<Timeout>,
    /// The screen request in flight or answered (the machine's number for it).
    capturing: u64,
    /// The granted screen track, with its `ended` handler.
    screen: Option<(MediaStreamTrack, Closure<dyn FnMut()>)>,
    /// Outgoing files, the slice being sent, the incoming file's chunks.
    files: files::Files,
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
        settings,
        tx,
        media_request,
        ice: None,
        machine: Machine::new(),
        acquiring: 0,
        media: None,
        link: None,
        signaling: None,
        watcher: None,
        timer: None,
        capturing: 0,
        screen: None,
        files: files::Files::default(),
    };
    // The machine's file transfers come with the later module, whoever asks for it.
    let loaded = s.tx.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(later) = crate::extras::loaded().await {
            let _ = loaded.unbounded_send(Event::Loaded(later));
        }
    });
    loop {
        // The user's commands first, then the rest: polled by hand, as `select_biased!` would,
        // without the macro's code for fusing and branching (about 1 KB of wasm).
        let next = std::future::poll_fn(|cx| match ui.poll_next_unpin(cx) {
            std::task::Poll::Ready(cmd) => std::task::Poll::Ready(Next::Ui(cmd)),
            std::task::Poll::Pending => rx.poll_next_unpin(cx).map(Next::Event),
        })
        .await;
        match next {
            Next::Ui(Some(UiCommand::Shutdown) | None) | Next::Event(None) => break,
            Next::Ui(Some(cmd)) => s.on_ui(cmd).await,
            Next::Event(Some(event)) => s.on_event(event).await,
        }
        s.drive().await;
    }
    s.feed(Input::HangUp);
    s.drive().await;
}

/// What the loop took next.
enum Next {
    Ui(Option<UiCommand>),
    Event(Option<Event>),
}

/// Leaves a `performance.mark` for set-up timing (`duet:media-ready`, `duet:joined`, …).
pub(crate) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

impl Session {
    /// Hands an input to the machine; the loop carries out what it asks for next.
    fn feed(&mut self, input: Input) {
        self.machine.handle(input, now());
    }

    /// Carries out the machine's actions (which may feed it more inputs), then shows its view
    /// and arms the timer for its next deadline.
    async fn drive(&mut self) {
        while let Some(action) = self.machine.poll_action() {
            self.execute(action).await;
        }
        let view = self.machine.view();
        // After the app unmounted (the final hang-up) the signal is gone: nothing to show.
        if self.view.call.try_with_untracked(|c| *c != view) == Some(true) {
            self.view.call.set(view);
        }
        let (machine, insight) = (&self.machine, self.machine.insight());
        self.view.panels.try_maybe_update(|p| {
            let mut changed = machine.show_chat(&mut p.chat);
            if p.insight != insight {
                p.insight = insight;
                changed = true;
            }
            (changed, ())
        });
        self.view
            .files
            .try_maybe_update(|f| (machine.show_transfers(&mut f.transfers), ()));
        self.timer = self.machine.poll_timeout().map(|at| {
            let tx = self.tx.clone();
            let wait = at.saturating_sub(now()).as_millis().min(u32::MAX as u128) as u32;
            Timeout::new(wait + 1, move || {
                let _ = tx.unbounded_send(Event::Tick);
            })
        });
    }

    async fn on_ui(&mut self, cmd: UiCommand) {
        // A flash message answers the previous action; the next one clears it.
        self.view.flash.set(None);
        match cmd {
            UiCommand::Join { room, name } => self.join(room, name).await,
            UiCommand::HangUp => self.feed(Input::HangUp),
            UiCommand::ToggleMic => {
                self.toggle(media::Kind::Audio, self.view.mic_on);
            }
            UiCommand::ToggleCamera => {
                let on = self.toggle(media::Kind::Video, self.view.cam_on);
                self.feed(Input::Camera(on));
            }
            UiCommand::Stats(open) => self.feed(Input::StatsPanel(open)),
            UiCommand::ToggleScreen => self.feed(Input::ToggleScreen),
            UiCommand::SendChat(text) => self.feed(Input::SendChat(text)),
            UiCommand::ChatPanel(open) => self.feed(Input::ChatPanel(open)),
            UiCommand::CancelFile(key) => self.feed(Input::CancelFile(key)),
            UiCommand::FirstRemoteFrame => self.feed(Input::FirstRemoteFrame),
            UiCommand::Shutdown => self.feed(Input::HangUp),
            cmd @ (UiCommand::SendFiles(_)
            | UiCommand::SelectDevice { .. }
            | UiCommand::CopyLink
            | UiCommand::NewRoom) => self.later(Work::Command(cmd)).await,
        }
    }

    /// Joins a room without waiting for the camera (see the machine): getUserMedia, the
    /// signaling connection and the ICE configuration all start at once.
    async fn join(&mut self, room: String, name: String) {
        self.feed(Input::Join {
            room: room.clone(),
            name: name.clone(),
        });
        // The camera request and the connection leave before the ICE configuration is awaited.
        self.drive().await;
        if !self.machine.phase().in_room() {
            return;
        }
        self.view.room_input.set(Some(room.clone()));
        self.view.name_input.set(Some(name.clone()));
        set_url_query(&config::query_with(&current_query(), &room, Some(&name)));
        self.view.mic_on.set(true);
        self.view.cam_on.set(true);
        if self.ice.is_none() {
            self.ice = Some(config::load_ice_servers(self.settings.ice).await);
        }
    }

    /// Turns the microphone or camera on or off; returns whether it is now on.
    fn toggle(&self, kind: media::Kind, on: RwSignal<bool>) -> bool {
        let next = !on.get_untracked();
        if let Some(m) = &self.media {
            m.set_enabled(kind, next);
        }
        on.set(next);
        next
    }

    async fn on_event(&mut self, event: Event) {
        match event {
            Event::Call(input) => self.feed(input),
            Event::Tick => self.machine.handle_timeout(now()),
            Event::Loaded(later) => self.machine.install_parts(later.parts),
            Event::Devices(id, list) if id == self.acquiring => self.view.devices.set(list),
            Event::Media(id, acquired) if id == self.acquiring => self.on_media(id, acquired),
            Event::Remote(id, stream) if self.link.as_ref().is_some_and(|(l, _)| *l == id) => {
                mark("duet:remote-track");
                self.view.remote_stream.set(Some(stream));
            }
            event @ (Event::DevicesChanged
            | Event::Screen(..)
            | Event::Chunk(..)
            | Event::Slice(..)) => self.later(Work::Event(event)).await,
            // From a request or link already replaced (late media stops as it drops).
            _ => {}
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
