//! Browser tests against a real duet-server: the signaling module, and whole calls between two
//! apps mounted in one page. The test setup starts duet-server and passes its URL at compile time:
//!
//! `DUET_TEST_SIGNALING_URL=http://127.0.0.1:PORT cargo test -p duet --target wasm32-unknown-unknown --test signaling`
#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::*;
use duet::config::Settings;
use duet::signaling::{self, SignalingClient, SignalingEvent};
use duet::ui::App;
use duet::{media, peer};
use duet_protocol::ClientMessage;
use duet_protocol::signaling::{JoinRoom, SdpType, ServerMessage, SessionDescription};
use futures::channel::mpsc;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement, HtmlVideoElement};

wasm_bindgen_test_configure!(run_in_browser);

const LONG: Duration = Duration::from_secs(20);

fn server() -> &'static str {
    // Read at compile time (the wasm test has no environment), checked at run time so that a
    // build without it still compiles and the tests fail with this message instead of passing.
    match option_env!("DUET_TEST_SIGNALING_URL") {
        Some(url) => url,
        None => panic!(
            "DUET_TEST_SIGNALING_URL is not set: start duet-server (e.g. `duet-server --port 0`) \
             and build these tests with DUET_TEST_SIGNALING_URL=http://127.0.0.1:PORT"
        ),
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e9) as u64)
}

type Events = mpsc::UnboundedReceiver<SignalingEvent>;

fn client() -> (SignalingClient, Events) {
    let url = duet_protocol::endpoint::websocket_url(server()).unwrap();
    let (tx, rx) = mpsc::unbounded();
    let c = SignalingClient::connect(&url, move |ev| {
        let _ = tx.unbounded_send(ev);
    });
    (c, rx)
}

/// Waits until the client reports its Socket.IO connection up.
async fn connected(rx: &mut Events) {
    next_matching(rx, LONG, "connect", |e| {
        (e == SignalingEvent::Connected).then_some(())
    })
    .await;
}

async fn message(rx: &mut Events, what: &str) -> ServerMessage {
    next_matching(rx, LONG, what, |ev| match ev {
        SignalingEvent::Message(m) => Some(m),
        _ => None,
    })
    .await
}

fn join(c: &SignalingClient, room: &str, name: &str) {
    c.send(&ClientMessage::JoinRoom(JoinRoom {
        room: room.into(),
        email: name.into(),
        warm_offer: false,
    }));
}

#[wasm_bindgen_test]
async fn signaling_module_talks_to_duet_server() {
    let room = unique("sig");
    let (a, mut rx_a) = client();
    connected(&mut rx_a).await;
    assert!(a.is_connected());
    join(&a, &room, "ann");
    assert_eq!(
        message(&mut rx_a, "all_users").await,
        ServerMessage::AllUsers(vec![])
    );

    // Emitted before the connection is up: buffered by the protocol client, sent on connect.
    let (b, mut rx_b) = client();
    join(&b, &room, "bob");
    let ServerMessage::AllUsers(users) = message(&mut rx_b, "all_users").await else {
        panic!("expected all_users")
    };
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email, "ann");

    // Duet's addition: ann hears who joined.
    let ServerMessage::UserJoined(joined) = message(&mut rx_a, "user_joined").await else {
        panic!("expected user_joined")
    };
    assert_eq!(joined.email, "bob");
    assert!(!joined.id.is_empty());

    let offer = SessionDescription {
        kind: SdpType::Offer,
        sdp: "v=0\r\n".into(),
    };
    b.send(&ClientMessage::Offer(offer.clone()));
    assert_eq!(
        message(&mut rx_a, "getOffer").await,
        ServerMessage::Offer(offer)
    );

    // A third person is refused.
    let (c, mut rx_c) = client();
    join(&c, &room, "cat");
    assert_eq!(
        message(&mut rx_c, "room_full").await,
        ServerMessage::RoomFull
    );
    drop(c);

    // Leaving tells the other side.
    b.close();
    assert!(matches!(
        message(&mut rx_a, "user_exit").await,
        ServerMessage::UserExit(_)
    ));
    drop(a);
}

#[wasm_bindgen_test]
async fn unreachable_server_reports_retries() {
    let (tx, mut rx) = mpsc::unbounded();
    let c = SignalingClient::connect(
        "ws://127.0.0.1:9/socket.io/?EIO=3&transport=websocket",
        move |ev| {
            let _ = tx.unbounded_send(ev);
        },
    );
    let delay = next_matching(&mut rx, LONG, "a retry", |ev| match ev {
        SignalingEvent::Down { retry_in } => Some(retry_in),
        _ => None,
    })
    .await;
    assert!(delay >= Duration::from_millis(500) && delay <= Duration::from_secs(5));
    drop(c);
}

struct Page {
    root: web_sys::HtmlElement,
    el: Element,
    handle: Option<leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>>,
}

fn open(room: &str, name: &str) -> Page {
    open_via(room, name, server())
}

/// The same server under another host name, so a test can cut one app's connection only.
fn other_name_for_server() -> (String, &'static str) {
    let url = server();
    if url.contains("127.0.0.1") {
        (url.replace("127.0.0.1", "localhost"), "localhost")
    } else {
        (url.replace("localhost", "127.0.0.1"), "127.0.0.1")
    }
}

fn open_via(room: &str, name: &str, server: &str) -> Page {
    let settings =
        Settings::from_query(&format!("?room={room}&name={name}&ice=none"), server).unwrap();
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <App settings=settings.clone() /> }.into_any()
    });
    let el: Element = root.clone().into();
    Page {
        root,
        el,
        handle: Some(handle),
    }
}

impl Page {
    fn video(&self, id: &str) -> HtmlVideoElement {
        find(&self.el, id).unwrap().unchecked_into()
    }
    fn click(&self, id: &str) {
        find(&self.el, id)
            .unwrap()
            .unchecked_into::<HtmlButtonElement>()
            .click();
    }
    fn close(mut self) {
        self.handle.take();
        self.root.remove();
    }
}

async fn playing(page: &Page, what: &str) {
    let v = page.video("#remotevideo");
    wait_for(what, LONG, || v.video_width() > 0).await;
    let t0 = v.current_time();
    wait_for(what, LONG, || v.current_time() > t0 + 0.2).await;
}

#[wasm_bindgen_test]
async fn two_apps_call_each_other_through_duet_server() {
    let room = unique("call");
    let ann = open(&room, "Ann");
    wait_for("ann waiting", LONG, || state(&ann.el) == "waiting").await;
    let bob = open(&room, "Bob");
    wait_for("both connected", LONG, || {
        state(&ann.el) == "connected" && state(&bob.el) == "connected"
    })
    .await;
    playing(&ann, "ann sees bob").await;
    playing(&bob, "bob sees ann").await;
    let name = find(&bob.el, "#peername").and_then(|e| e.text_content());
    assert_eq!(name.as_deref(), Some("Ann"));

    // Keyboard: m mutes the microphone (the track stops sending), and the button shows it.
    let audio_enabled = |page: &Page| {
        let stream = page.video("#localvideo").src_object().unwrap();
        let track: web_sys::MediaStreamTrack = stream.get_audio_tracks().get(0).unchecked_into();
        track.enabled()
    };
    assert!(audio_enabled(&bob));
    let key = web_sys::KeyboardEventInit::new();
    key.set_key("m");
    key.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &key).unwrap();
    web_sys::window().unwrap().dispatch_event(&ev).unwrap();
    // Both apps in this page hear the key, as two tabs would not; both mute.
    wait_for("muted by m", LONG, || {
        !audio_enabled(&bob) && !audio_enabled(&ann)
    })
    .await;
    let mic = find(&bob.el, "#mic").unwrap();
    assert_eq!(mic.get_attribute("aria-pressed").as_deref(), Some("true"));
    bob.click("#mic");
    wait_for("unmuted by click", LONG, || audio_enabled(&bob)).await;

    // Choosing a camera swaps the track in place (replaceTrack) and stops the old one.
    let video_track = |page: &Page| -> web_sys::MediaStreamTrack {
        let stream = page.video("#localvideo").src_object().unwrap();
        stream.get_video_tracks().get(0).unchecked_into()
    };
    let old = video_track(&bob);
    let tracks_before = media::live_tracks();
    let select: web_sys::HtmlSelectElement =
        find(&bob.el, "#camera-select").unwrap().unchecked_into();
    wait_for("camera list", LONG, || select.length() > 0).await;
    select.set_selected_index(0);
    select.dispatch_event(&user_event("change")).unwrap();
    wait_for("new camera track", LONG, || {
        video_track(&bob).id() != old.id()
    })
    .await;
    assert_eq!(old.ready_state(), web_sys::MediaStreamTrackState::Ended);
    assert_eq!(media::live_tracks(), tracks_before);
    playing(&ann, "ann still sees bob after the switch").await;

    // A third app is told the room is full, in words.
    let cat = open(&room, "Cat");
    wait_for("room-full", LONG, || state(&cat.el) == "room-full").await;
    assert!(problem(&cat.el).contains("Pick another room"));
    // ...and picks another room from the form shown with the message.
    let input: web_sys::HtmlInputElement = find(&cat.el, "#room").unwrap().unchecked_into();
    input.set_value(&unique("other"));
    input.dispatch_event(&user_event("input")).unwrap();
    cat.click("#join");
    wait_for("cat waiting elsewhere", LONG, || {
        state(&cat.el) == "waiting"
    })
    .await;
    cat.close();

    // Bob hangs up: Ann sees peer-left and waits; Bob's camera is released.
    bob.click("#hangup");
    wait_for("ann peer-left", LONG, || state(&ann.el) == "peer-left").await;
    wait_for("bob idle", LONG, || state(&bob.el) == "idle").await;
    assert!(ann.video("#remotevideo").src_object().is_none());

    // Bob joins again from the form; the call comes back.
    bob.click("#join");
    wait_for("reconnected", LONG, || {
        state(&ann.el) == "connected" && state(&bob.el) == "connected"
    })
    .await;
    playing(&ann, "ann sees bob again").await;
    ann.close();
    bob.close();
    wait_for("everything released", LONG, || {
        peer::live_links() == 0 && media::live_tracks() == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn twenty_joins_and_hang_ups_leak_nothing() {
    let room = unique("leak");
    let page = open(&room, "Ann");
    wait_for("waiting", LONG, || state(&page.el) == "waiting").await;
    let (links, tracks) = (peer::live_links(), media::live_tracks());
    assert_eq!(links, 1);
    for i in 0..20 {
        page.click("#hangup");
        wait_for("idle", LONG, || state(&page.el) == "idle").await;
        assert_eq!(peer::live_links(), 0, "round {i}");
        assert_eq!(media::live_tracks(), 0, "round {i}");
        page.click("#join");
        wait_for("waiting", LONG, || state(&page.el) == "waiting").await;
        assert_eq!(peer::live_links(), links, "round {i}");
        assert_eq!(media::live_tracks(), tracks, "round {i}");
    }
    page.close();
    wait_for("released", LONG, || {
        peer::live_links() == 0 && media::live_tracks() == 0
    })
    .await;
}

/// Asserts that `cond` holds throughout `window` (an observation, not a synchronisation: the
/// test is about something *not* happening in that time).
async fn holds_for(what: &str, window: Duration, mut cond: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while js_sys::Date::now() - start < window.as_millis() as f64 {
        assert!(cond(), "{what} stopped holding");
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
}

#[wasm_bindgen_test]
async fn call_keeps_playing_when_one_side_loses_signaling() {
    let room = unique("blip");
    let (other, host) = other_name_for_server();
    let ann = open(&room, "Ann");
    wait_for("ann waiting", LONG, || state(&ann.el) == "waiting").await;
    let bob = open_via(&room, "Bob", &other);
    wait_for("both connected", LONG, || {
        state(&ann.el) == "connected" && state(&bob.el) == "connected"
    })
    .await;
    playing(&ann, "ann sees bob").await;

    // Bob's connection to the server drops. The server tells Ann that Bob left, but media still
    // flows, so Ann keeps the call; Bob reconnects with backoff and rejoins the room.
    assert_eq!(signaling::simulate_transport_loss(host), 1);
    wait_for("bob reconnecting", LONG, || {
        state(&bob.el) == "reconnecting" && problem(&bob.el).contains("Lost the call server")
    })
    .await;
    playing(&bob, "bob sees ann while reconnecting").await;
    wait_for("bob back", LONG, || {
        state(&bob.el) == "connected" && problem(&bob.el).is_empty()
    })
    .await;
    holds_for(
        "both connected through the blip",
        session_exit_check() + Duration::from_secs(1),
        || state(&ann.el) == "connected" && state(&bob.el) == "connected",
    )
    .await;
    playing(&ann, "ann still sees bob").await;
    playing(&bob, "bob still sees ann").await;

    // A real hang-up is told apart at once: media stops, Ann sees peer-left.
    bob.click("#hangup");
    wait_for("ann peer-left", LONG, || state(&ann.el) == "peer-left").await;
    ann.close();
    bob.close();
    wait_for("released", LONG, || {
        peer::live_links() == 0 && media::live_tracks() == 0
    })
    .await;
}

fn session_exit_check() -> Duration {
    duet::session::EXIT_SETTLE + duet::session::EXIT_CHECK
}

#[wasm_bindgen_test]
async fn receive_only_user_still_sees_and_hears_the_other() {
    let room = unique("recv");
    // No camera and no microphone at all: Ann joins receive-only, with a notice saying so.
    media::simulate_failure(Some("NotFoundError"));
    let ann = open(&room, "Ann");
    wait_for("ann waiting", LONG, || state(&ann.el) == "waiting").await;
    media::simulate_failure(None);
    assert!(
        problem(&ann.el).contains("No camera or microphone"),
        "{}",
        problem(&ann.el)
    );
    let mic: HtmlButtonElement = find(&ann.el, "#mic").unwrap().unchecked_into();
    assert!(mic.disabled());

    let bob = open(&room, "Bob");
    wait_for("both connected", LONG, || {
        state(&ann.el) == "connected" && state(&bob.el) == "connected"
    })
    .await;
    playing(&ann, "ann sees bob").await;
    ann.close();
    bob.close();
    wait_for("released", LONG, || {
        peer::live_links() == 0 && media::live_tracks() == 0
    })
    .await;
}

/// Sets up what index.html does before the app loads: a connection to the page's own server,
/// announced as `window.duetEarlySocket = {url, ws, frames}` with the frames it received.
/// `url` is the address it claims to be for. Returns the socket, its frames and their handler.
fn early_socket(
    url: &str,
) -> (
    web_sys::WebSocket,
    js_sys::Array,
    wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
) {
    let real = duet_protocol::endpoint::websocket_url(server()).unwrap();
    let ws = web_sys::WebSocket::new(&real).unwrap();
    ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let frames = js_sys::Array::new();
    let f = frames.clone();
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
        move |e: web_sys::MessageEvent| {
            f.push(&e.data());
        },
    );
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let early = js_sys::Object::new();
    for (k, v) in [
        ("url", wasm_bindgen::JsValue::from_str(url)),
        ("ws", ws.clone().into()),
        ("frames", frames.clone().into()),
    ] {
        js_sys::Reflect::set(&early, &k.into(), &v).unwrap();
    }
    js_sys::Reflect::set(
        &web_sys::window().unwrap(),
        &"duetEarlySocket".into(),
        &early,
    )
    .unwrap();
    (ws, frames, on_message)
}

fn early_socket_announced() -> bool {
    !js_sys::Reflect::get(&web_sys::window().unwrap(), &"duetEarlySocket".into())
        .unwrap()
        .is_undefined()
}

#[wasm_bindgen_test]
async fn takes_over_the_connection_index_html_opened() {
    let url = duet_protocol::endpoint::websocket_url(server()).unwrap();
    let (ws, frames, _on_message) = early_socket(&url);
    // The server's handshake arrives before the app takes the socket over.
    wait_for("the handshake buffered", LONG, || frames.length() >= 1).await;
    let (c, mut rx) = client();
    connected(&mut rx).await;
    assert!(!early_socket_announced(), "taken once");
    let room = unique("early");
    join(&c, &room, "ann");
    assert_eq!(
        message(&mut rx, "all_users").await,
        ServerMessage::AllUsers(vec![])
    );
    // It is the client's socket: a simulated network drop closes that very socket.
    assert_eq!(ws.ready_state(), web_sys::WebSocket::OPEN);
    assert!(signaling::simulate_transport_loss(&url) >= 1);
    wait_for("the taken-over socket closed", LONG, || {
        ws.ready_state() == web_sys::WebSocket::CLOSED
    })
    .await;
    c.close();
}

#[wasm_bindgen_test]
async fn closes_an_early_connection_it_cannot_use() {
    // Meant for another server: closed, and the client opens its own.
    let url = duet_protocol::endpoint::websocket_url(server()).unwrap();
    let (ws, _frames, _on_message) = early_socket("ws://elsewhere.invalid/socket.io/");
    let (c, mut rx) = client();
    connected(&mut rx).await;
    assert!(!early_socket_announced());
    wait_for("the unused socket closed", LONG, || {
        ws.ready_state() == web_sys::WebSocket::CLOSED
    })
    .await;
    c.close();

    // The app will not join (no valid ?room=): discarded.
    let (ws, _frames, _on_message) = early_socket(&url);
    duet::early::discard_socket();
    assert!(!early_socket_announced());
    wait_for("the discarded socket closed", LONG, || {
        ws.ready_state() == web_sys::WebSocket::CLOSED
    })
    .await;
}

/// An `input` or `change` event as the browser fires it for the user: bubbling, so the page's
/// handlers on the form and the controls bar see it.
fn user_event(name: &str) -> web_sys::Event {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    web_sys::Event::new_with_event_init_dict(name, &init).unwrap()
}
