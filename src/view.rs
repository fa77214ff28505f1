//! What components see and send: the call's reactive view ([`CallView`], Leptos signals the
//! session writes) and the user's commands ([`UiCommand`] over [`Commands`], plain data, so
//! components never hold browser callbacks or session internals).

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use leptos::prelude::*;
use web_sys::MediaStream;

use crate::call::{Call, ChatView, Problem};
use crate::config::Settings;
use crate::dom::JsSignal;
use crate::insight::monitor::Seen;
use crate::media::Kind;

/// What the user asks for. Plain data, so components hold only a channel sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiCommand {
    /// Join a room under a name.
    Join {
        /// Room name.
        room: String,
        /// Display name.
        name: String,
    },
    /// Leave the room and release the camera.
    HangUp,
    /// Mute or unmute the microphone.
    ToggleMic,
    /// Turn the camera off or on.
    ToggleCamera,
    /// Use another camera or microphone.
    SelectDevice {
        /// Which kind.
        kind: Kind,
        /// Its deviceId.
        id: String,
    },
    /// Copy the room link to the clipboard.
    CopyLink,
    /// Make an unguessable room name for the form and copy its link.
    NewRoom,
    /// Open or close the stats panel.
    Stats(bool),
    /// Share the screen, or stop.
    ToggleScreen,
    /// Send a chat message.
    SendChat(String),
    /// Open or close the chat panel.
    ChatPanel(bool),
    /// Send these files.
    SendFiles(Vec<web_sys::File>),
    /// Cancel the file transfer with this key.
    CancelFile(u64),
    /// The remote video shows its first frame (the set-up time's end).
    FirstRemoteFrame,
    /// The app is going away: hang up and end the session.
    Shutdown,
}

/// The handle components use to talk to the session.
#[derive(Clone)]
pub struct Commands(UnboundedSender<UiCommand>);

impl Commands {
    /// A handle and the receiving end for [`run`].
    pub fn channel() -> (Self, UnboundedReceiver<UiCommand>) {
        let (tx, rx) = mpsc::unbounded();
        (Self(tx), rx)
    }

    /// Asks the session to do something (a no-op once the session has ended).
    pub fn send(&self, cmd: UiCommand) {
        let _ = self.0.unbounded_send(cmd);
    }
}

/// The reactive view of the call that components render.
#[derive(Clone, Copy)]
pub struct CallView {
    /// What the call machine shows (phase, problem, peer name), written by the session.
    pub call: RwSignal<Call>,
    /// The microphone sends (track enabled).
    pub mic_on: RwSignal<bool>,
    /// The camera sends (track enabled).
    pub cam_on: RwSignal<bool>,
    /// A microphone track exists.
    pub has_mic: RwSignal<bool>,
    /// A camera track exists.
    pub has_cam: RwSignal<bool>,
    /// Cameras, microphones and speakers to choose from: the browser's list, read with
    /// [`crate::media::device_list`] (`None`: not listed yet).
    pub devices: JsSignal<js_sys::Array>,
    /// The camera in use.
    pub camera_id: RwSignal<Option<String>>,
    /// The microphone in use.
    pub mic_id: RwSignal<Option<String>>,
    /// The audio output chosen for the other person's sound (`None`: the default).
    pub speaker_id: RwSignal<Option<String>>,
    /// The local stream for `#localvideo`.
    pub local_stream: JsSignal<MediaStream>,
    /// The remote stream for `#remotevideo`.
    pub remote_stream: JsSignal<MediaStream>,
    /// The browser refused to autoplay the remote audio, so it plays muted until a click.
    pub remote_muted: RwSignal<bool>,
    /// A short message after copy-link.
    pub flash: RwSignal<Option<String>>,
    /// The join form's room (`None`: empty). An `Option` like the other strings here: each
    /// signal type costs the bundle its own copy of Leptos' signal code (about 1 KB raw).
    pub room_input: RwSignal<Option<String>>,
    /// The join form's name (`None`: empty), as [`Self::room_input`].
    pub name_input: RwSignal<Option<String>>,
    /// What the stats and chat panels show. One signal for both: each signal type costs the
    /// bundle its own copy of Leptos' signal code (about 1 KB raw). A panel's effect then runs
    /// again when the other part changes (a stats reading rewrites the chat's attributes): a
    /// few idempotent DOM writes a second, where memos per part would cost the panels' module
    /// 3.5 KB gzip.
    pub panels: RwSignal<Panels>,
    /// The files both ways and their download links: apart from [`Self::panels`], because a
    /// transfer's progress changes it with every chunk, and redrawing the other panels that
    /// often starved a receiving page's heartbeat (`share` e2e, 1 GiB file).
    pub files: RwSignal<Files>,
    /// The remote video has shown a frame since the page loaded (what [`crate::extras`] waits for).
    pub first_frame: RwSignal<bool>,
}

impl CallView {
    /// Fresh signals, with the join form prefilled from the URL.
    pub fn new(settings: &Settings) -> Self {
        let call = if settings.bad_room {
            Call::failed(Problem::BadRoom)
        } else {
            Call::new()
        };
        Self {
            call: RwSignal::new(call),
            mic_on: RwSignal::new(true),
            cam_on: RwSignal::new(true),
            has_mic: RwSignal::new(false),
            has_cam: RwSignal::new(false),
            devices: JsSignal::default(),
            camera_id: RwSignal::new(None),
            mic_id: RwSignal::new(None),
            speaker_id: RwSignal::new(None),
            local_stream: JsSignal::default(),
            remote_stream: JsSignal::default(),
            remote_muted: RwSignal::new(false),
            flash: RwSignal::new(None),
            room_input: RwSignal::new(settings.room.clone()),
            name_input: RwSignal::new(Some(settings.name.clone())),
            panels: RwSignal::new(Panels::default()),
            files: RwSignal::new(Files::default()),
            first_frame: RwSignal::new(false),
        }
    }
}

/// What the stats and chat panels show, written by the session from the call machine.
#[derive(Clone, Default, PartialEq)]
pub struct Panels {
    /// Stats, quality, route and safety code (the call machine's insight part).
    pub insight: Seen,
    /// The chat (the call machine's chat part).
    pub chat: ChatView,
}

/// What the files panel shows.
#[derive(Clone, Default, PartialEq)]
pub struct Files {
    /// The call's files both ways (the call machine's transfers).
    pub transfers: Vec<crate::transfer::Transfer>,
    /// Download links of received files: (transfer key, `blob:` URL), from the files'
    /// browser side.
    pub downloads: Vec<(u64, String)>,
}
