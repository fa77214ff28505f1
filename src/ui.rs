//! The components: join form, video stage, controls bar, status banner. They read
//! [`CallView`] signals and send [`UiCommand`]s; they hold no browser callbacks of their own
//! beyond Leptos's event handlers.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlVideoElement, MediaStream};

use duet_protocol::signaling::ROOM_PATTERN;

use crate::call::Phase;
use crate::config::Settings;
use crate::dom::{Mounted, attr, effect, find, flag, text};
use crate::keys::{self, KeyHelp};
use crate::media::{self, Kind, MediaRequest};
use crate::session::{self, CallView, Commands, UiCommand};

/// The whole app: starts a session for `settings` and joins `?room=` at once.
#[component]
pub fn App(
    /// What the URL says.
    settings: Settings,
    /// Device choice (tests pass impossible constraints to reach the error paths).
    #[prop(optional)]
    media_request: Option<MediaRequest>,
) -> impl IntoView {
    let view = CallView::new(&settings);
    let landing = settings.room.is_none();
    let (commands, ui_rx) = Commands::channel();
    if let Some(room) = settings.room.clone() {
        commands.send(UiCommand::Join {
            room,
            name: settings.name.clone(),
        });
    }
    leptos::task::spawn_local(session::run(
        settings,
        media_request.unwrap_or_default(),
        view,
        ui_rx,
    ));

    // Keyboard shortcuts (crate::keys).
    let keys = commands.clone();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        crate::keys::on_key(&ev, view, &keys)
    });
    let closing = commands.clone();
    on_cleanup(move || {
        handle.remove();
        closing.send(UiCommand::Shutdown);
    });

    let form_commands = commands.clone();
    let dropped = commands.clone();
    // `data-phase` (the layout's switch) is written by the status banner's effect.
    view! {
        <main class="duet"
            // A file dropped anywhere on the call is sent like one chosen under "Send file".
            on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                let files = ev.data_transfer().and_then(|d| d.files());
                let list: Vec<web_sys::File> = files
                    .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
                    .unwrap_or_default();
                if !list.is_empty() {
                    dropped.send(UiCommand::SendFiles(list));
                }
            }>
            <header class="topbar">
                <h1 class="brand">"Duet"</h1>
                <StatusBanner view=view />
            </header>
            <JoinForm view=view commands=form_commands />
            <VideoStage view=view commands=commands.clone() />
            <Extras view=view commands=commands.clone() landing=landing />
            <Controls view=view commands=commands.clone() />
            <KeyHelp />
        </main>
    }
}

/// The panels of [`crate::extras`], drawn once their module is loaded: after the remote
/// video's first frame; on a page opened without a room (the join form), at once; when the
/// person opens the stats or the chat with a key before that frame; and when a call that never
/// showed a frame is reconnecting or the other person left. A panel's state lives in
/// [`CallView`], so what happened before the module loaded is drawn when it does. The module
/// mounts them into this component's element (`display: contents`, so they sit in the page's
/// column as if they were its children) and holds their view code.
#[component]
fn Extras(view: CallView, commands: Commands, landing: bool) -> impl IntoView {
    let root = Mounted::default();
    let asked = StoredValue::new(false);
    // The mounted panels; dropped with this component, which takes them down.
    let drawn = StoredValue::new_local(None::<Box<dyn std::any::Any>>);
    effect(Box::new(move || {
        let phase = view.call.with(|c| c.phase());
        let asked_for = view.panels.with(|p| p.insight.panel || p.chat.panel);
        let due = view.first_frame.get()
            || asked_for
            || matches!(phase, Phase::Reconnecting | Phase::PeerLeft)
            || (landing && phase == Phase::Idle);
        if due && !asked.get_value() {
            asked.set_value(true);
            let commands = commands.clone();
            leptos::task::spawn_local(async move {
                match crate::extras::load().await {
                    Ok(later) => {
                        let parent = root.get().and_then(|e| e.dyn_into().ok());
                        if let Some(parent) = parent {
                            drawn.set_value(Some((later.panels)(parent, view, commands)));
                        }
                    }
                    Err(_) => view.flash.set(Some(crate::extras::UNAVAILABLE.into())),
                }
            });
        }
    }));
    view! { <div class="panels" node_ref=root></div> }
}

/// `#callstatus` with `data-state`, the status in words, and any error or notice with what to do.
/// Static markup written by one effect ([`crate::dom`]); the live regions exist before their
/// text changes, so screen readers announce the change.
#[component]
pub fn StatusBanner(view: CallView) -> impl IntoView {
    let root = Mounted::default();
    effect(Box::new(move || {
        let (state, words, problem) = view.call.with(|c| {
            let problem = c.problem().map(|p| (p.to_string(), p.is_fatal()));
            (c.phase().as_str(), c.status_text(), problem)
        });
        let flash = view.flash.get();
        let Some(root) = root.get() else { return };
        let root = &root;
        let (Some(status), Some(trouble), Some(flashed)) = (
            find(root, "#callstatus"),
            find(root, "#callproblem"),
            find(root, "#flash"),
        ) else {
            return;
        };
        attr(&status, "data-state", Some(state));
        if let Ok(Some(app)) = root.closest(".duet") {
            attr(&app, "data-phase", Some(state));
        }
        text(&status, &words);
        let fatal = problem.as_ref().is_some_and(|(_, fatal)| *fatal);
        flag(&trouble, "hidden", problem.is_none());
        attr(
            &trouble,
            "class",
            Some(if fatal {
                "problem fatal"
            } else {
                "problem notice"
            }),
        );
        attr(
            &trouble,
            "role",
            Some(if fatal { "alert" } else { "status" }),
        );
        text(
            &trouble,
            problem.as_ref().map_or("", |(msg, _)| msg.as_str()),
        );
        flag(&flashed, "hidden", flash.is_none());
        text(&flashed, flash.as_deref().unwrap_or(""));
    }));
    view! {
        <div class="status" node_ref=root>
            <p id="callstatus" role="status" aria-live="polite"></p>
            <p id="callproblem" hidden></p>
            <p id="flash" class="flash" role="status" hidden></p>
        </div>
    }
}

/// Asks for a room and a name; also the way to pick another room after `room_full` or an error.
/// Hidden in a call. Static markup (Leptos builds it from one HTML string) with one effect
/// writing what changes and one handler per event kind on the form.
#[component]
pub fn JoinForm(view: CallView, commands: Commands) -> impl IntoView {
    let form = Mounted::default();
    // The fields follow the signals (a "New room", the room a join came from), and the button
    // says when this is another try.
    effect(Box::new(move || {
        let values = [
            ("#room", view.room_input.get().unwrap_or_default()),
            ("#name", view.name_input.get().unwrap_or_default()),
        ];
        let phase = view.call.with(|c| c.phase());
        let Some(form) = form.get() else { return };
        let form = &form;
        let shown = matches!(phase, Phase::Idle | Phase::RoomFull | Phase::Error);
        flag(form, "hidden", !shown);
        for (css, value) in values {
            if let Some(input) = find(form, css).and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
            {
                // The protocol's rule, so the browser says what is wrong before a join is sent.
                if css == "#room" {
                    attr(&input, "pattern", Some(ROOM_PATTERN));
                }
                // Writing the same value would move the caret of someone typing.
                if input.value() != value {
                    input.set_value(&value);
                }
            }
        }
        if let Some(button) = find(form, "#join") {
            let again = phase != Phase::Idle;
            text(&button, if again { "Join again" } else { "Join" });
        }
    }));
    let typed = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        match input.id().as_str() {
            "room" => view.room_input.set(Some(input.value())),
            "name" => view.name_input.set(Some(input.value())),
            _ => {}
        }
    };
    let new_room = commands.clone();
    let clicked = move |ev: leptos::ev::MouseEvent| {
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        if target.is_some_and(|t| t.id() == "newroom") {
            new_room.send(UiCommand::NewRoom);
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let field =
            |s: RwSignal<Option<String>>| s.get_untracked().unwrap_or_default().trim().to_owned();
        let (room, name) = (field(view.room_input), field(view.name_input));
        commands.send(UiCommand::Join { room, name });
    };
    view! {
        <form id="joinform" class="join" node_ref=form on:submit=submit on:input=typed
            on:click=clicked>
            <label for="room">"Room"</label>
            <input id="room" name="room" required autocomplete="off"
                placeholder="e.g. team-standup" />
            <label for="name">"Your name"</label>
            <input id="name" name="name" autocomplete="name" placeholder="optional" />
            <button id="join" type="submit">"Join"</button>
            <button id="newroom" type="button"
                title="Make a room nobody can guess, and copy its link">"New room"</button>
        </form>
    }
}

/// Plays the other person's sound on the output `id` (`setSinkId`); says so when the browser
/// refuses (no permission for that device, or it went away).
fn set_speaker(view: CallView, id: String) {
    let Some(video) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("remotevideo"))
    else {
        return;
    };
    let set = js_sys::Reflect::get(&video, &"setSinkId".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call1(&video, &id.as_str().into()).ok())
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
    let Some(set) = set else { return };
    wasm_bindgen_futures::spawn_local(async move {
        if wasm_bindgen_futures::JsFuture::from(set).await.is_ok() {
            view.speaker_id.set(Some(id));
        } else {
            view.flash.set(Some(
                "Could not switch the speaker: the browser refused that output. Pick another one."
                    .to_owned(),
            ));
        }
    });
}

/// Shows `stream` in `video`. When the browser refuses to autoplay with sound (no user gesture
/// yet, not capturing), plays muted and sets `refused` so the stage offers an unmute button.
fn attach(video: &HtmlVideoElement, stream: Option<&MediaStream>, refused: Option<RwSignal<bool>>) {
    let current = video.src_object().map(|s| s.id());
    if current == stream.map(|s| s.id()) && stream.is_some() {
        return; // Re-assigning the same stream would restart playback.
    }
    video.set_src_object(stream);
    if stream.is_some() {
        // autoplay may be refused (no user gesture yet); muted playback is always allowed.
        let v = video.clone();
        if let Ok(p) = video.play() {
            wasm_bindgen_futures::spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(p).await.is_err() {
                    v.set_muted(true);
                    let _ = v.play();
                    if let Some(r) = refused {
                        r.set(true);
                    }
                }
            });
        }
    }
}

/// The remote video large, the local one as picture-in-picture.
#[component]
pub fn VideoStage(view: CallView, commands: Commands) -> impl IntoView {
    let stage = Mounted::default();
    let video = move |css| {
        let stage = stage.get()?;
        find(&stage, css)?.dyn_into::<HtmlVideoElement>().ok()
    };
    effect(Box::new(move || {
        let stream = view.local_stream.get();
        if let Some(v) = video("#localvideo") {
            v.set_muted(true);
            attach(&v, stream.as_ref(), None);
        }
    }));
    effect(Box::new(move || {
        let stream = view.remote_stream.get();
        if let Some(v) = video("#remotevideo") {
            attach(&v, stream.as_ref(), Some(view.remote_muted));
        }
    }));
    effect(Box::new(move || {
        let peer = view.call.with(|c| match c.phase() {
            Phase::Connecting | Phase::Connected | Phase::Reconnecting => {
                Some(c.peer_name().unwrap_or("Guest").to_owned())
            }
            _ => None,
        });
        let cam_off = !view.cam_on.get() || !view.has_cam.get();
        let muted = view.remote_muted.get();
        let Some(stage) = stage.get() else { return };
        let stage = &stage;
        if let Some(unmute) = find(stage, "#unmute") {
            flag(&unmute, "hidden", !muted);
        }
        if let (Some(name), Some(local)) = (find(stage, "#peername"), find(stage, ".local")) {
            flag(&name, "hidden", peer.is_none());
            text(&name, peer.as_deref().unwrap_or(""));
            attr(
                &local,
                "class",
                Some(if cam_off { "local off" } else { "local" }),
            );
        }
    }));
    view! {
        <section class="stage" aria-label="Video" node_ref=stage>
            <div class="remote">
                <video id="remotevideo" autoplay playsinline
                    on:loadeddata=move |_| {
                        if !view.first_frame.get_untracked() {
                            session::mark("duet:first-frame");
                            view.first_frame.set(true);
                        }
                        commands.send(UiCommand::FirstRemoteFrame)
                    }></video>
                <span id="peername" class="name" hidden></span>
                <button id="unmute" type="button" class="unmute" hidden
                    on:click=move |_| {
                        let remote = stage.find_untracked("#remotevideo");
                        if let Some(v) = remote.and_then(|v| v.dyn_into::<HtmlVideoElement>().ok()) {
                            v.set_muted(false);
                            let _ = v.play();
                        }
                        view.remote_muted.set(false);
                    }>"Click to hear the other person"</button>
            </div>
            <div class="local">
                <video id="localvideo" muted autoplay playsinline prop:muted=true></video>
                <span class="name">"You"</span>
            </div>
        </section>
    }
}

/// Mute, camera, screen share, device pickers (and the speaker where it can be chosen),
/// fullscreen, picture-in-picture, the key list, copy link, hang up.
#[component]
pub fn Controls(view: CallView, commands: Commands) -> impl IntoView {
    let nav = Mounted::default();
    // What this browser can do: the controls for the rest stay hidden.
    let (share_shown, pip_shown, sink) = (
        media::screen_supported(),
        keys::pip_supported(),
        media::sink_supported(),
    );
    // The bar and the two toggles, written by one effect ([`crate::dom`]).
    effect(Box::new(move || {
        let in_room = view.call.with(|c| c.phase().in_room());
        let toggles = [
            (
                "#mic",
                view.mic_on.get(),
                view.has_mic.get(),
                ["Mute microphone (m)", "Unmute microphone (m)"],
                ["Mute", "Unmute"],
            ),
            (
                "#camera",
                view.cam_on.get(),
                view.has_cam.get(),
                ["Turn camera off (c)", "Turn camera on (c)"],
                ["Camera off", "Camera on"],
            ),
        ];
        let (sharing, connected) = view
            .call
            .with(|c| (c.sharing(), c.phase() == Phase::Connected));
        let Some(nav) = nav.get() else { return };
        let nav = &nav;
        let class = if in_room {
            "controls"
        } else {
            "controls hidden"
        };
        attr(nav, "class", Some(class));
        if let Some(pip) = find(nav, "#pip") {
            flag(&pip, "hidden", !pip_shown);
        }
        if let Some(share) = find(nav, "#screenshare") {
            flag(&share, "hidden", !share_shown);
            attr(
                &share,
                "aria-pressed",
                Some(if sharing { "true" } else { "false" }),
            );
            flag(&share, "disabled", !sharing && !connected);
            text(
                &share,
                if sharing {
                    "Stop sharing"
                } else {
                    "Share screen"
                },
            );
        }
        for (css, on, has, labels, words) in toggles {
            let Some(button) = find(nav, css) else {
                continue;
            };
            let i = usize::from(!on);
            attr(
                &button,
                "aria-pressed",
                Some(if on { "false" } else { "true" }),
            );
            attr(&button, "aria-label", Some(labels[i]));
            flag(&button, "disabled", !has);
            attr(&button, "class", (!on).then_some("off"));
            text(&button, words[i]);
        }
    }));
    let picked = commands.clone();
    // One click handler for the bar's buttons, by id: the buttons stay static markup, which
    // Leptos builds from one HTML string instead of code per element.
    let clicked = move |ev: leptos::ev::MouseEvent| {
        let button = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("button").ok().flatten());
        let Some(button) = button else { return };
        match button.id().as_str() {
            "mic" => commands.send(UiCommand::ToggleMic),
            "camera" => commands.send(UiCommand::ToggleCamera),
            "screenshare" => commands.send(UiCommand::ToggleScreen),
            "fullscreen" => keys::toggle_fullscreen(),
            "pip" => keys::toggle_pip(),
            "help" => keys::show_help(None),
            "copylink" => commands.send(UiCommand::CopyLink),
            "hangup" => commands.send(UiCommand::HangUp),
            _ => {}
        }
    };
    // The pickers' options, written by one effect: each device of the picker's kind, the one in
    // use selected (whenever the list or the choice changes).
    effect(Box::new(move || {
        let chosen = [
            view.camera_id.get(),
            view.mic_id.get(),
            view.speaker_id.get(),
        ];
        let devices: Vec<_> = view
            .devices
            .get()
            .map(|l| media::device_list(&l).collect())
            .unwrap_or_default();
        let Some(nav) = nav.get() else { return };
        let Some(doc) = nav.owner_document() else {
            return;
        };
        let nav = &nav;
        let pickers = [
            ("#camera-select", Kind::Video, false),
            ("#mic-select", Kind::Audio, false),
            ("#speaker-select", Kind::Audio, true),
        ];
        for ((css, kind, output), chosen) in pickers.into_iter().zip(chosen) {
            let Some(select) = find(nav, css) else {
                continue;
            };
            let mine = || {
                devices
                    .iter()
                    .filter(|d| d.kind == kind && d.output == output)
            };
            select.set_text_content(None);
            for d in mine() {
                let Ok(option) = doc.create_element("option") else {
                    continue;
                };
                attr(&option, "value", Some(&d.id));
                flag(
                    &option,
                    "selected",
                    chosen.as_deref() == Some(d.id.as_str()),
                );
                option.set_text_content(Some(&d.label));
                let _ = select.append_child(&option);
            }
            // The speaker picker shows only where the browser can route audio and lists
            // outputs.
            if output && let Some(label) = select.parent_element() {
                flag(&label, "hidden", !sink || mine().next().is_none());
            }
        }
    }));
    let changed = move |ev: leptos::ev::Event| {
        let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        else {
            return;
        };
        let id = select.value();
        match select.id().as_str() {
            "camera-select" => picked.send(UiCommand::SelectDevice {
                kind: Kind::Video,
                id,
            }),
            "mic-select" => picked.send(UiCommand::SelectDevice {
                kind: Kind::Audio,
                id,
            }),
            "speaker-select" => set_speaker(view, id),
            _ => {}
        }
    };
    view! {
        <nav class="controls hidden" aria-label="Call controls" node_ref=nav on:click=clicked
            on:change=changed>
            <button id="mic" type="button" aria-pressed="false" aria-label="Mute microphone (m)"
                title="Microphone (m)" disabled></button>
            <button id="camera" type="button" aria-pressed="false" aria-label="Turn camera off (c)"
                title="Camera (c)" disabled></button>
            // Hidden where the browser cannot share a screen (phones).
            <button id="screenshare" type="button" aria-pressed="false"
                title="Share your screen (s)" hidden disabled>"Share screen"</button>
            <label class="picker">
                <span>"Camera"</span>
                <select id="camera-select" aria-label="Camera"></select>
            </label>
            <label class="picker">
                <span>"Microphone"</span>
                <select id="mic-select" aria-label="Microphone"></select>
            </label>
            // Shown where the browser can route audio (setSinkId) and has outputs to choose from.
            <label class="picker" hidden>
                <span>"Speaker"</span>
                <select id="speaker-select" aria-label="Speaker"></select>
            </label>
            <button id="fullscreen" type="button" title="Fullscreen (f)">"Fullscreen"</button>
            <button id="pip" type="button" title="The other person in a floating window" hidden>"Picture in picture"</button>
            <button id="help" type="button" title="Keys (?)" aria-label="Keyboard keys">"?"</button>
            <button id="copylink" type="button" aria-label="Copy the room link">"Copy link"</button>
            <button id="hangup" type="button" class="danger" aria-label="Hang up">"Hang up"</button>
        </nav>
    }
}
