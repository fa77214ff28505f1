//! Browser tests that need no server: components, the peer module with fake media, media errors,
//! and the leak check. Run with
//! `cargo test -p duet --target wasm32-unknown-unknown --test browser` (headless Chromium).
#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::*;
use duet::call::{Action, Input, Machine, Problem};
use duet::config::Settings;
use duet::media::{self, Kind, MediaRequest};
use duet::peer::{self, LinkState, PeerEvent, PeerLink};
use duet::session::{CallView, Commands, UiCommand};
use duet::ui::{App, Controls, StatusBanner, VideoStage};
use duet_protocol::signaling::{IceCandidate, ServerMessage, User};
use futures::StreamExt;
use futures::channel::mpsc;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlButtonElement, HtmlVideoElement, MediaStreamTrack};

wasm_bindgen_test_configure!(run_in_browser);

const LONG: Duration = Duration::from_secs(20);

fn settings(query: &str) -> Settings {
    // Port 9 (discard) on loopback: nothing listens, so signaling fails fast and locally.
    Settings::from_query(query, "http://127.0.0.1:9").unwrap()
}

#[wasm_bindgen_test]
async fn status_and_controls_follow_the_call() {
    let view = CallView::new(&settings(""));
    let (commands, mut rx) = Commands::channel();
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <StatusBanner view=view />
            <VideoStage view=view commands=commands.clone() />
            <Controls view=view commands=commands.clone() />
        }
    });
    let el: web_sys::Element = root.clone().into();
    wait_for("idle", LONG, || state(&el) == "idle").await;
    assert!(find(&el, "#localvideo").is_some() && find(&el, "#remotevideo").is_some());
    let local: HtmlVideoElement = find(&el, "#localvideo").unwrap().unchecked_into();
    assert!(local.muted() && local.autoplay() && local.has_attribute("playsinline"));

    // The components show what the call machine says, as the session writes it.
    let mut machine = Machine::new();
    let t = Duration::ZERO;
    machine.handle(
        Input::Join {
            room: "r1".into(),
            name: "Bob".into(),
        },
        t,
    );
    let (mut camera, mut signaling) = (0, 0);
    while let Some(a) = machine.poll_action() {
        match a {
            Action::AcquireMedia(id) => camera = id,
            Action::OpenSignaling(id) => signaling = id,
            _ => {}
        }
    }
    view.call.set(machine.view());
    wait_for("media", LONG, || state(&el) == "media").await;
    machine.handle(Input::MediaReady(camera, Some(Problem::NoCamera)), t);
    machine.handle(Input::SignalingUp(signaling), t);
    let ann = User {
        id: "a".into(),
        email: "Ann".into(),
        warm_offer: false,
    };
    machine.handle(
        Input::Server(signaling, ServerMessage::AllUsers(vec![ann])),
        t,
    );
    view.call.set(machine.view());
    wait_for("connecting", LONG, || state(&el) == "connecting").await;
    let text = find(&el, "#callstatus").unwrap().text_content().unwrap();
    assert!(text.contains("Ann"), "{text}");
    assert!(problem(&el).contains("No camera"), "{}", problem(&el));
    wait_for("peer name", LONG, || {
        find(&el, "#peername")
            .and_then(|e| e.text_content())
            .as_deref()
            == Some("Ann")
    })
    .await;

    // The microphone button is disabled until there is a microphone, then sends ToggleMic and
    // shows its state.
    let mic: HtmlButtonElement = find(&el, "#mic").unwrap().unchecked_into();
    assert!(mic.disabled());
    view.has_mic.set(true);
    wait_for("mic enabled", LONG, || !mic.disabled()).await;
    assert_eq!(mic.get_attribute("aria-pressed").as_deref(), Some("false"));
    mic.click();
    let cmd = next_matching(&mut rx, LONG, "ToggleMic", Some).await;
    assert_eq!(cmd, UiCommand::ToggleMic);
    view.mic_on.set(false);
    wait_for("muted state visible", LONG, || {
        mic.get_attribute("aria-pressed").as_deref() == Some("true")
    })
    .await;
    assert_eq!(mic.text_content().as_deref(), Some("Unmute"));
    let hangup: HtmlButtonElement = find(&el, "#hangup").unwrap().unchecked_into();
    assert!(hangup.get_attribute("aria-label").is_some());
    hangup.click();
    let cmd = next_matching(&mut rx, LONG, "HangUp", Some).await;
    assert_eq!(cmd, UiCommand::HangUp);

    machine.handle(Input::Server(signaling, ServerMessage::RoomFull), t);
    view.call.set(machine.view());
    wait_for("room-full", LONG, || state(&el) == "room-full").await;
    assert!(problem(&el).contains("Pick another room"));
    drop(handle);
    root.remove();
}

/// Runs offer/answer and trickle ICE between two links until both are connected and `b` has a
/// remote stream. With `glare`, both offer at once: `a` is impolite, `b` polite.
async fn connect(
    a: &mut PeerLink,
    b: &mut PeerLink,
    rx: &mut mpsc::UnboundedReceiver<(u64, PeerEvent)>,
    glare: bool,
) {
    if glare {
        let offer_a = a.make_offer(false).await.unwrap();
        let offer_b = b.make_offer(false).await.unwrap();
        // Impolite a ignores b's offer (the call machine's decision, tested natively); polite
        // b rolls its own back and answers a's.
        let _ = offer_b;
        let answer = b.accept_offer(&offer_a, false).await.unwrap();
        a.accept_answer(&answer).await.unwrap();
    } else {
        let offer = a.make_offer(false).await.unwrap();
        let answer = b.accept_offer(&offer, false).await.unwrap();
        a.accept_answer(&answer).await.unwrap();
    }
    let (mut a_up, mut b_up, mut b_remote) = (false, false, false);
    while !(a_up && b_up && b_remote) {
        let (id, ev) = next_matching(rx, LONG, "peer connection", Some).await;
        let from_a = id == a.id();
        match ev {
            PeerEvent::Candidate(c) if from_a => b.add_candidate(c).await.unwrap(),
            PeerEvent::Candidate(c) => a.add_candidate(c).await.unwrap(),
            PeerEvent::State(LinkState::Connected) if from_a => a_up = true,
            PeerEvent::State(LinkState::Connected) => b_up = true,
            PeerEvent::RemoteStream(s) if !from_a => {
                b_remote = s.get_video_tracks().length() > 0;
            }
            _ => {}
        }
    }
}

fn pair() -> (
    PeerLink,
    PeerLink,
    mpsc::UnboundedReceiver<(u64, PeerEvent)>,
) {
    let (tx, rx) = mpsc::unbounded();
    let tx2 = tx.clone();
    let a = PeerLink::new(&[], move |id, ev| {
        let _ = tx.unbounded_send((id, ev));
    })
    .unwrap();
    let b = PeerLink::new(&[], move |id, ev| {
        let _ = tx2.unbounded_send((id, ev));
    })
    .unwrap();
    (a, b, rx)
}

#[wasm_bindgen_test]
async fn two_links_connect_with_fake_media_and_survive_glare() {
    let media_a = media::acquire(&MediaRequest::default())
        .await
        .unwrap()
        .media;
    let media_b = media::acquire(&MediaRequest::default())
        .await
        .unwrap()
        .media;
    assert!(media_a.track(Kind::Video).is_some() && media_a.track(Kind::Audio).is_some());
    for glare in [false, true] {
        let (mut a, mut b, mut rx) = pair();
        a.add_local(&media_a);
        b.add_local(&media_b);
        connect(&mut a, &mut b, &mut rx, glare).await;
        assert!(a.is_connected() && b.is_connected());

        // The remote video really plays: frames have a size and time advances.
        let video: HtmlVideoElement = web_sys::window()
            .unwrap()
            .document()
            .unwrap()
            .create_element("video")
            .unwrap()
            .unchecked_into();
        video.set_muted(true);
        video.set_autoplay(true);
        let root = container();
        root.append_child(&video).unwrap();
        video.set_src_object(Some(b.remote_stream()));
        let _ = video.play();
        let tracks: Vec<MediaStreamTrack> = b
            .remote_stream()
            .get_tracks()
            .iter()
            .map(|t| t.unchecked_into())
            .collect();
        let desc = || {
            format!(
                "remote frames (glare {glare}): ready {} w {} t {} paused {} tracks {:?}",
                video.ready_state(),
                video.video_width(),
                video.current_time(),
                video.paused(),
                tracks
                    .iter()
                    .map(|t| (t.kind(), t.muted(), t.ready_state()))
                    .collect::<Vec<_>>()
            )
        };
        wait_for(&desc(), LONG, || {
            video.video_width() > 0 && video.current_time() > 0.2
        })
        .await;

        // An ICE restart renegotiates fresh ICE credentials without dropping the call.
        let ufrag = |sdp: &str| {
            sdp.lines()
                .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
                .map(str::to_owned)
        };
        let before = ufrag(&b.make_offer(false).await.unwrap().sdp);
        let restart = a.make_offer(true).await.unwrap();
        // b's own pending offer collides: polite b rolls it back and answers.
        let answer = b.accept_offer(&restart, false).await.unwrap();
        a.accept_answer(&answer).await.unwrap();
        assert_ne!(ufrag(&restart.sdp), None);
        assert_ne!(ufrag(&answer.sdp), before);
        assert!(a.is_connected() && b.is_connected());

        // A new camera goes out with replaceTrack, without renegotiation.
        let cam = media_a.track(Kind::Video).unwrap();
        a.replace_track(&cam).await.unwrap();
        video.set_src_object(None);
        root.remove();
        a.close();
        b.close();
    }
}

/// A warm offer answered before the camera is ready: the answer says it sends audio and video,
/// and the camera's tracks, given later, reach the other side without another negotiation.
#[wasm_bindgen_test]
async fn an_answer_made_before_the_camera_sends_it_once_it_is_ready() {
    let (mut a, mut b, mut rx) = pair();
    let media_a = media::acquire(&MediaRequest::default())
        .await
        .unwrap()
        .media;
    a.add_local(&media_a);
    let offer = a.make_offer(false).await.unwrap();
    let answer = b.accept_offer(&offer, true).await.unwrap();
    assert_eq!(
        answer.sdp.matches("a=sendrecv").count(),
        2,
        "{}",
        answer.sdp
    );
    a.accept_answer(&answer).await.unwrap();
    let media_b = media::acquire(&MediaRequest::default())
        .await
        .unwrap()
        .media;
    b.attach_local(&media_b).await.unwrap();
    let (mut a_up, mut b_up) = (false, false);
    while !(a_up && b_up) {
        match next_matching(&mut rx, LONG, "the links connected", Some).await {
            (id, PeerEvent::Candidate(c)) if id == a.id() => b.add_candidate(c).await.unwrap(),
            (_, PeerEvent::Candidate(c)) => a.add_candidate(c).await.unwrap(),
            (id, PeerEvent::State(LinkState::Connected)) => {
                a_up |= id == a.id();
                b_up |= id == b.id();
            }
            _ => {}
        }
    }
    // Packets of b's camera unmute a's remote video track.
    wait_for("b's camera at a", LONG, || {
        a.remote_stream()
            .get_video_tracks()
            .iter()
            .any(|t| !t.unchecked_into::<MediaStreamTrack>().muted())
    })
    .await;
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn early_candidates_wait_for_the_remote_description() {
    let (a, mut b, _rx) = pair();
    let media_a = media::acquire(&MediaRequest::default())
        .await
        .unwrap()
        .media;
    a.add_local(&media_a);
    let offer = a.make_offer(false).await.unwrap();
    let early = IceCandidate {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    };
    b.add_candidate(early).await.unwrap();
    assert_eq!(b.pending_candidates(), 1);
    b.accept_offer(&offer, false).await.unwrap();
    assert_eq!(b.pending_candidates(), 0);
}

async fn app_error(request: MediaRequest) -> (String, String) {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <App settings=settings("?room=errors&ice=none") media_request=request.clone() /> }
    });
    let el: web_sys::Element = root.clone().into();
    wait_for("error state", LONG, || state(&el) == "error").await;
    let out = (state(&el), problem(&el));
    drop(handle);
    root.remove();
    out
}

#[wasm_bindgen_test]
async fn get_user_media_rejected_says_what_to_do() {
    // A camera that does not exist: the browser's own OverconstrainedError.
    let (_, msg) = app_error(MediaRequest {
        video_device: Some("no-such-camera".into()),
        audio_device: None,
    })
    .await;
    assert!(
        msg.contains("not available") && msg.contains("Pick another"),
        "{msg}"
    );

    // Permission refused and device busy, through the test seam (fake-UI Chromium always grants).
    media::simulate_failure(Some("NotAllowedError"));
    let (_, msg) = app_error(MediaRequest::default()).await;
    assert!(msg.contains("denied") && msg.contains("Allow"), "{msg}");
    media::simulate_failure(Some("NotReadableError"));
    let (_, msg) = app_error(MediaRequest::default()).await;
    assert!(msg.contains("in use by another application"), "{msg}");

    // No devices at all is not an error: the call goes on receive-only.
    media::simulate_failure(Some("NotFoundError"));
    let got = media::acquire(&MediaRequest::default()).await.unwrap();
    media::simulate_failure(None);
    assert_eq!(got.notice, Some(Problem::NoDevices));
    assert!(got.media.tracks().is_empty());
    let link = PeerLink::new(&[], |_, _| {}).unwrap();
    link.add_local(&got.media);
    drop(link);
    wait_for("all released", LONG, || {
        media::live_tracks() == 0 && peer::live_links() == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn twenty_calls_leak_nothing() {
    let mut seen: Vec<MediaStreamTrack> = Vec::new();
    for _ in 0..20 {
        let media_a = media::acquire(&MediaRequest::default())
            .await
            .unwrap()
            .media;
        let media_b = media::acquire(&MediaRequest::default())
            .await
            .unwrap()
            .media;
        seen.extend(media_a.tracks());
        seen.extend(media_b.tracks());
        let (mut a, mut b, mut rx) = pair();
        a.add_local(&media_a);
        b.add_local(&media_b);
        connect(&mut a, &mut b, &mut rx, false).await;
        assert_eq!(peer::live_links(), 2);
        drop(a);
        drop(b);
        drop(media_a);
        drop(media_b);
        assert_eq!(peer::live_links(), 0);
        assert_eq!(media::live_tracks(), 0);
        // Events of closed links stop: whatever is queued is from before the close.
        rx.close();
        while rx.next().await.is_some() {}
    }
    assert!(
        seen.iter()
            .all(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended)
    );
}

#[wasm_bindgen_test]
async fn unreachable_signaling_shows_reconnecting_with_backoff() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <App settings=settings("?room=nowhere&ice=none") /> }
    });
    let el: web_sys::Element = root.clone().into();
    wait_for("reconnecting", LONG, || state(&el) == "reconnecting").await;
    let msg = problem(&el);
    assert!(
        msg.contains("Cannot reach the call server") && msg.contains("retrying in"),
        "{msg}"
    );
    let text = find(&el, "#callstatus").unwrap().text_content().unwrap();
    assert_eq!(text, "Reconnecting to the call server…");
    // Unmounting the app ends its session: camera released, connection closed.
    drop(handle);
    root.remove();
    wait_for("released", LONG, || {
        media::live_tracks() == 0 && peer::live_links() == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn ice_servers_fall_back_to_the_seed_stun_without_config_json() {
    use duet::config::{IceSource, load_ice_servers, seed_ice_servers};
    // The test page has no config.json beside it: a static host without one.
    assert_eq!(
        load_ice_servers(IceSource::ConfigJson).await,
        seed_ice_servers()
    );
    assert!(load_ice_servers(IceSource::None).await.is_empty());
}

/// Does what index.html does for a `?room=` link before the app loads: asks for camera and
/// microphone and announces the request as `window.duetEarlyMedia`.
fn early_media() -> js_sys::Promise {
    let constraints = js_sys::Object::new();
    js_sys::Reflect::set(&constraints, &"audio".into(), &true.into()).unwrap();
    js_sys::Reflect::set(&constraints, &"video".into(), &true.into()).unwrap();
    let promise = web_sys::window()
        .unwrap()
        .navigator()
        .media_devices()
        .unwrap()
        .get_user_media_with_constraints(constraints.unchecked_ref())
        .unwrap();
    js_sys::Reflect::set(
        &web_sys::window().unwrap(),
        &"duetEarlyMedia".into(),
        &promise,
    )
    .unwrap();
    promise
}

fn early_media_announced() -> bool {
    !js_sys::Reflect::get(&web_sys::window().unwrap(), &"duetEarlyMedia".into())
        .unwrap()
        .is_undefined()
}

async fn stream_of(promise: js_sys::Promise) -> web_sys::MediaStream {
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn the_app_takes_over_the_camera_index_html_asked_for() {
    let before = media::live_tracks();
    let promise = early_media();
    let got = media::acquire(&MediaRequest::default()).await.unwrap();
    assert!(!early_media_announced(), "taken once");
    let early = stream_of(promise).await;
    assert_eq!(
        got.media.stream().id(),
        early.id(),
        "the same stream, not a second camera"
    );
    assert_eq!(media::live_tracks(), before + 2);
    drop(got);
    assert_eq!(media::live_tracks(), before);
    assert!(
        early
            .get_tracks()
            .iter()
            .all(|t| t.unchecked_into::<MediaStreamTrack>().ready_state()
                == web_sys::MediaStreamTrackState::Ended)
    );

    // A request for a particular device does not take it; a page that will not join stops it.
    let promise = early_media();
    let request = MediaRequest {
        video_device: Some("no-such-camera".into()),
        audio_device: None,
    };
    assert!(media::acquire(&request).await.is_err());
    assert!(early_media_announced());
    duet::early::discard_media();
    assert!(!early_media_announced());
    let early = stream_of(promise).await;
    wait_for("the early camera stopped", LONG, || {
        early.get_tracks().iter().all(|t| {
            t.unchecked_into::<MediaStreamTrack>().ready_state()
                == web_sys::MediaStreamTrackState::Ended
        })
    })
    .await;
}

/// duet-protocol's room rule reads the same in JavaScript (the join form's `pattern`,
/// index.html's early start, the page's own check [`duet::room_name::allowed`]) as in Rust
/// ([`validate_room`]): for every single code point, and at the length limit.
#[wasm_bindgen_test]
fn the_room_pattern_is_the_protocols_rule_in_javascript() {
    use duet_protocol::signaling::{
        MAX_ROOM_CHARS, ROOM_PATTERN, room_char, validate_room, validate_room_with,
    };
    let re = js_sys::RegExp::new(&format!("^(?:{ROOM_PATTERN})$"), "u");
    let page = duet::room_name::allowed();
    let mut differ = Vec::new();
    let mut page_differs = Vec::new();
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        let s = c.to_string();
        if re.test(&s) != validate_room(&s).is_ok() {
            differ.push(c);
        }
        if page(c) != room_char(c) {
            page_differs.push(c);
        }
    }
    assert!(differ.is_empty(), "JS and Rust disagree on {differ:?}");
    assert!(
        page_differs.is_empty(),
        "the page's check and Rust disagree on {page_differs:?}"
    );
    for room in ["café-東京", "a b", "x/y", ""] {
        assert_eq!(
            validate_room_with(room, &page),
            validate_room(room),
            "{room:?}"
        );
    }
    for room in [
        "é".repeat(MAX_ROOM_CHARS),
        "é".repeat(MAX_ROOM_CHARS + 1),
        "𝔘".repeat(MAX_ROOM_CHARS),
        String::new(),
        "team-standup".into(),
        "a b".into(),
    ] {
        assert_eq!(re.test(&room), validate_room(&room).is_ok(), "{room:?}");
    }
}
