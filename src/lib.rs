//! Duet's frontend: a 1:1 video call in the browser.
//!
//! One module per browser capability, each owning its JS closures and their cleanup —
//! [`media`] (camera, microphone), [`peer`] (RTCPeerConnection), [`signaling`] (the Socket.IO
//! WebSocket), [`config`] (URL and config.json), [`early`] (what index.html starts before the
//! app loads) — a [`session`] loop that drives them, the call's
//! state machine in plain Rust ([`call`]), and the components ([`ui`]) with what they read and
//! send ([`view`]). `main.rs` only mounts, so browser tests can mount the same components.

pub mod call;
pub mod chat;
pub mod config;
pub mod dom;
pub mod early;
pub mod extras;
pub mod insight;
pub mod js;
pub mod keys;
pub mod media;
pub mod peer;
pub mod room_name;
pub mod session;
pub mod signaling;
pub mod transfer;
pub mod ui;
pub mod view;

use leptos::prelude::*;

pub use ui::App;

/// Mounts the app on `<body>`, one task after the wasm started.
///
/// The wasm's compile and start run as one long task (60–80 ms measured on 2 cores), and the
/// early socket's first frames (`0`, `40`) that arrive meanwhile wait behind it; index.html
/// sends `join_room` on `40`. Mounting (and so starting the session, which takes the socket
/// over) in a task of its own lets those frames, and that join, go first.
pub fn start() {
    session::mark("duet:wasm-start");
    gloo_timers::callback::Timeout::new(0, mount).forget();
}

/// Reads the page's URL and mounts the app on `<body>`.
fn mount() {
    let location = web_sys::window().map(|w| w.location());
    let query = location
        .as_ref()
        .and_then(|l| l.search().ok())
        .unwrap_or_default();
    let origin = location
        .as_ref()
        .and_then(|l| l.origin().ok())
        .unwrap_or_default();
    let settings = config::Settings::from_query(&query, &origin);
    if !matches!(&settings, Ok(s) if s.room.is_some()) {
        early::discard_media();
        early::discard_socket();
    }
    match settings {
        Ok(settings) => leptos::mount::mount_to_body(move || {
            view! { <App settings=settings /> }
        }),
        Err(e) => leptos::mount::mount_to_body(move || {
            let msg = call::Problem::BadServer(e.to_string()).to_string();
            view! {
                <main class="duet">
                    <p id="callstatus" data-state="error" role="status">"The call could not continue."</p>
                    <p id="callproblem" class="problem fatal" role="alert">{msg}</p>
                </main>
            }
        }),
    }
    // The session (spawned by App) runs only after this first render.
    session::mark("duet:mounted");
}
