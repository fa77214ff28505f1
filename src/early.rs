//! What index.html starts before the app has loaded, for a link that joins a room at once: the
//! camera request (`window.duetEarlyMedia`) and the signaling WebSocket to the page's own server
//! (`window.duetEarlySocket`). Each is taken over at most once, by [`crate::media`] and
//! [`crate::signaling`], or stopped when the app will not join. Only browser types here: those
//! modules build on this one, never the other way round.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamTrack, WebSocket};

/// The camera-and-microphone request index.html started before the app loaded
/// (`window.duetEarlyMedia`), taken at most once.
pub(crate) fn take_media() -> Option<js_sys::Promise> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str("duetEarlyMedia");
    let promise = js_sys::Reflect::get(&window, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(window.unchecked_ref::<js_sys::Object>(), &key);
    promise.dyn_into().ok()
}

/// Stops the camera index.html started if the app does not join at once (the link's room turned
/// out invalid), so it is not left running.
pub fn discard_media() {
    if let Some(p) = take_media() {
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(stream) = JsFuture::from(p).await {
                for t in stream.unchecked_into::<MediaStream>().get_tracks().iter() {
                    t.unchecked_into::<MediaStreamTrack>().stop();
                }
            }
        });
    }
}

const EARLY_SOCKET: &str = "duetEarlySocket";

/// The connection index.html opened to the page's own server before the app loaded
/// (`window.duetEarlySocket = {url, ws, frames}`), with the frames that arrived meanwhile;
/// taken once, and only for `url` and while it is not closing. The frames are the WebSocket's
/// `data` values, as they came. A socket not taken is closed: left open, it would keep its
/// `join_room` seat until the server's heartbeat timeout and the app's own join would find the
/// room full of this very page.
pub(crate) fn take_socket(url: &str) -> Option<(WebSocket, js_sys::Array)> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str(EARLY_SOCKET);
    let early = js_sys::Reflect::get(&window, &key).ok()?;
    if !early.is_object() {
        return None;
    }
    let _ = js_sys::Reflect::delete_property(window.unchecked_ref::<js_sys::Object>(), &key);
    let get = |k: &str| js_sys::Reflect::get(&early, &JsValue::from_str(k)).ok();
    // Not `dyn_into`: that is `instanceof` against today's `window.WebSocket`, which a
    // browser extension or a test harness may have wrapped since index.html made this one.
    // index.html's own script put a WebSocket here.
    let ws: WebSocket = get("ws").filter(JsValue::is_object)?.unchecked_into();
    let frames = get("frames").and_then(|f| f.dyn_into::<js_sys::Array>().ok());
    let same_url = get("url").and_then(|u| u.as_string()).as_deref() == Some(url);
    let open = matches!(ws.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN);
    match frames {
        Some(frames) if same_url && open => Some((ws, frames)),
        _ => {
            let _ = ws.close();
            None
        }
    }
}

/// Closes the connection index.html opened when the app will not join at once.
pub fn discard_socket() {
    let _ = take_socket("");
}
