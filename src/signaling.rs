//! The signaling connection: duet-protocol's sans-IO [`SocketClient`] driven by a browser
//! WebSocket and gloo timers. This is the only module that knows the wire; the rest of the app
//! sends [`ClientMessage`]s and receives [`SignalingEvent`]s.
//!
//! Reconnection with backoff and the heartbeat are the protocol crate's; here we only open and
//! close sockets when it says so, feed it frames and the clock (`performance.now()`), and wake it
//! at [`SocketClient::poll_timeout`].

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use duet_protocol::client::{ClientConfig, ClientEvent, Command, ConnectError};
use duet_protocol::json::Json;
use duet_protocol::signaling::JoinRoom;
use duet_protocol::{ClientMessage, Frame, ServerMessage, SocketClient};
use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::js::PageJson;

/// What the signaling connection reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalingEvent {
    /// Connected (first time or after a loss).
    Connected,
    /// A typed message from the server.
    Message(ServerMessage),
    /// The connection is down; the next attempt starts after `retry_in`.
    Down {
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// The server refused us or ended the session for good; no retry.
    Closed(String),
    /// Something unusable arrived from the server; it was dropped.
    Garbage(String),
}

#[cfg(feature = "test-seams")]
thread_local! {
    static LIVE: RefCell<Vec<Weak<RefCell<Inner>>>> = const { RefCell::new(Vec::new()) };
}

/// Test seam: closes the WebSocket of every live client whose URL contains `pattern`, as a
/// network drop would (the client then reconnects with backoff). Returns how many were closed.
#[cfg(feature = "test-seams")]
pub fn simulate_transport_loss(pattern: &str) -> usize {
    let clients: Vec<_> = LIVE.with(|l| l.borrow().iter().filter_map(Weak::upgrade).collect());
    let mut closed = 0;
    for inner in clients {
        let inner = inner.borrow();
        if let Some(s) = &inner.socket
            && inner.url.contains(pattern)
        {
            let _ = s.ws.close();
            closed += 1;
        }
    }
    closed
}

/// The current time (`performance.now()`) for the protocol's and the call machine's deadlines.
pub(crate) fn now() -> Duration {
    let ms = web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now);
    // In whole microseconds: a float-to-integer cast saturates (and is 0 for NaN), where
    // `Duration::from_secs_f64` checks its input with half a kilobyte of code in the bundle.
    Duration::from_micros((ms * 1000.0) as u64)
}

struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    fn close(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}

struct Inner {
    client: SocketClient<PageJson>,
    url: String,
    socket: Option<Socket>,
    timer: Option<Timeout>,
    sink: Rc<dyn Fn(SignalingEvent)>,
    /// Set when the sink asked for a reset (see [`SignalingClient`]): stop driving.
    shut: bool,
    /// The `join_room` index.html already sent on the socket this client took over: the app's
    /// own identical join is not sent again (once, and only on that socket).
    early_join: Option<JoinRoom>,
}

/// A live signaling connection. Dropping it (or [`SignalingClient::close`]) disconnects,
/// closes the WebSocket, cancels its timer and drops its closures.
pub struct SignalingClient {
    inner: Rc<RefCell<Inner>>,
}

impl SignalingClient {
    /// Connects to `url` (a ws(s)://…/socket.io/?EIO=3&transport=websocket URL) and keeps
    /// reconnecting with backoff until closed. Events go to `sink`, asynchronously from browser
    /// callbacks (never from inside a call to this type).
    pub fn connect(url: &str, sink: impl Fn(SignalingEvent) + 'static) -> Self {
        let config = ClientConfig {
            seed: (js_sys::Math::random() * u64::MAX as f64) as u64 | 1,
            ..ClientConfig::default()
        };
        let mut client = SocketClient::with_config(config);
        client.connect(now());
        let inner = Rc::new(RefCell::new(Inner {
            client,
            url: url.to_owned(),
            socket: None,
            timer: None,
            sink: Rc::new(sink),
            shut: false,
            early_join: None,
        }));
        #[cfg(feature = "test-seams")]
        LIVE.with(|l| {
            let mut l = l.borrow_mut();
            l.retain(|w| w.strong_count() > 0);
            l.push(Rc::downgrade(&inner));
        });
        drive(&inner);
        Self { inner }
    }

    /// Sends a message now, or when the connection is back. A message that cannot even be
    /// buffered (the buffer is full during a long outage) is dropped: it would be stale anyway.
    pub fn send(&self, message: &ClientMessage) {
        {
            let mut inner = self.inner.borrow_mut();
            if let ClientMessage::JoinRoom(join) = message
                && inner.early_join.as_ref() == Some(join)
            {
                inner.early_join = None;
                return;
            }
        }
        let result = self.inner.borrow_mut().client.emit_message(message);
        if let Err(e) = result {
            web_sys::console::warn_1(&format!("signaling: {e}").into());
        }
        drive(&self.inner);
    }

    /// Whether the connection is up.
    pub fn is_connected(&self) -> bool {
        self.inner.borrow().client.is_connected()
    }

    /// Disconnects for good.
    pub fn close(&self) {
        self.inner.borrow_mut().client.disconnect();
        drive(&self.inner);
        let mut inner = self.inner.borrow_mut();
        inner.shut = true;
        inner.timer = None;
        if let Some(s) = inner.socket.take() {
            s.close();
        }
    }
}

impl Drop for SignalingClient {
    fn drop(&mut self) {
        self.close();
    }
}

/// Runs the client's commands, reports its events and re-arms the timer.
fn drive(inner_rc: &Rc<RefCell<Inner>>) {
    let mut events = Vec::new();
    let sink = {
        let mut inner = inner_rc.borrow_mut();
        if inner.shut {
            return;
        }
        while let Some(cmd) = inner.client.poll_command() {
            match cmd {
                Command::Open => {
                    if let Some(old) = inner.socket.take() {
                        old.close();
                    }
                    inner.early_join = None;
                    match open_socket(&inner.url, Rc::downgrade(inner_rc)) {
                        Ok((s, early_join)) => {
                            inner.socket = Some(s);
                            inner.early_join = early_join;
                        }
                        Err(_) => {
                            // A URL the browser refuses outright behaves like a refused connection.
                            inner.client.handle_close(now());
                        }
                    }
                }
                Command::Send(frame) => {
                    if let Some(s) = &inner.socket {
                        let sent = match &frame {
                            Frame::Text(t) => s.ws.send_with_str(t),
                            Frame::Binary(b) => s.ws.send_with_u8_array(b),
                        };
                        if sent.is_err() {
                            web_sys::console::warn_1(&"signaling: send failed".into());
                        }
                    }
                }
                Command::Close => {
                    if let Some(s) = inner.socket.take() {
                        s.close();
                    }
                }
            }
        }
        while let Some(ev) = inner.client.poll_event() {
            if let Some(e) = translate(ev) {
                events.push(e);
            }
        }
        inner.timer = inner.client.poll_timeout().map(|at| {
            let wait = at.saturating_sub(now());
            let weak = Rc::downgrade(inner_rc);
            Timeout::new(
                wait.as_millis().min(u32::MAX as u128) as u32 + 1,
                move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.borrow_mut().client.handle_timeout(now());
                        drive(&inner);
                    }
                },
            )
        });
        inner.sink.clone()
    };
    for e in events {
        sink(e);
    }
}

fn translate<J: Json>(ev: ClientEvent<J>) -> Option<SignalingEvent> {
    Some(match ev {
        ClientEvent::Connected { .. } => SignalingEvent::Connected,
        ClientEvent::Event { name, args, .. } => match ServerMessage::from_json(&name, &args) {
            Ok(m) => SignalingEvent::Message(m),
            Err(e) => SignalingEvent::Garbage(e.to_string()),
        },
        ClientEvent::Reconnecting { delay, .. } => SignalingEvent::Down { retry_in: delay },
        ClientEvent::ConnectError(ConnectError::Refused(v)) => {
            SignalingEvent::Closed(format!("server refused the connection: {}", v.to_text()))
        }
        ClientEvent::Disconnected(duet_protocol::client::DisconnectReason::ServerDisconnect) => {
            SignalingEvent::Closed("the server ended the session".to_owned())
        }
        ClientEvent::ProtocolError(e) => SignalingEvent::Garbage(e.to_string()),
        // Transport losses are followed by a Reconnecting event, which carries the delay.
        ClientEvent::Disconnected(_) | ClientEvent::ConnectError(_) | ClientEvent::Ack { .. } => {
            return None;
        }
    })
}

/// A WebSocket frame's data as a [`Frame`] (text, or binary as an ArrayBuffer).
pub(crate) fn frame_of(data: JsValue) -> Option<Frame> {
    if let Some(text) = data.as_string() {
        Some(Frame::Text(text))
    } else {
        let buf = data.dyn_into::<js_sys::ArrayBuffer>().ok()?;
        Some(Frame::Binary(js_sys::Uint8Array::new(&buf).to_vec()))
    }
}

/// The `join_room` index.html has sent on its early socket (`window.duetEarlySocket.joined`).
fn early_join() -> Option<JoinRoom> {
    let window: JsValue = web_sys::window()?.into();
    let early = js_sys::Reflect::get(&window, &"duetEarlySocket".into()).ok()?;
    let joined = js_sys::Reflect::get(&early, &"joined".into()).ok()?;
    let warm_offer = js_sys::Reflect::get(&joined, &"warmOffer".into()).ok()?;
    Some(JoinRoom {
        room: crate::js::js_string(&joined, "room")?,
        email: crate::js::js_string(&joined, "email")?,
        warm_offer: warm_offer.as_bool() == Some(true),
    })
}

/// Opens the WebSocket, or takes over index.html's; with the join index.html sent on it.
fn open_socket(
    url: &str,
    weak: Weak<RefCell<Inner>>,
) -> Result<(Socket, Option<JoinRoom>), JsValue> {
    // Read before the takeover, which removes it; nothing runs in between.
    let joined = early_join();
    let (ws, early_frames, joined) = match crate::early::take_socket(url) {
        Some((ws, frames)) => (ws, frames.iter().filter_map(frame_of).collect(), joined),
        None => (WebSocket::new(url)?, Vec::new(), None),
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    if !early_frames.is_empty() {
        // Fed once this call (inside `drive`) has returned, and only while this socket is
        // still the client's; before any frame that arrives later (that is a new task).
        let w = weak.clone();
        let this = ws.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let Some(inner) = w.upgrade() else { return };
            let current = inner
                .borrow()
                .socket
                .as_ref()
                .is_some_and(|s| JsValue::from(&s.ws) == JsValue::from(&this));
            if current {
                for frame in &early_frames {
                    inner.borrow_mut().client.handle_frame(frame, now());
                }
                drive(&inner);
            }
        });
    }

    let w = weak.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        if let Some(inner) = w.upgrade() {
            inner.borrow_mut().client.handle_open(now());
            drive(&inner);
        }
    });
    let w = weak.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let Some(frame) = frame_of(ev.data()) else {
            return;
        };
        if let Some(inner) = w.upgrade() {
            inner.borrow_mut().client.handle_frame(&frame, now());
            drive(&inner);
        }
    });
    let w = weak;
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_ev: CloseEvent| {
        if let Some(inner) = w.upgrade() {
            {
                let mut i = inner.borrow_mut();
                // The socket is gone: forget it so its closures drop with it.
                if let Some(s) = i.socket.take() {
                    s.close();
                }
                i.client.handle_close(now());
            }
            drive(&inner);
        }
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let socket = Socket {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    };
    Ok((socket, joined))
}

#[cfg(test)]
mod tests {
    use super::*;
    use duet_protocol::client::DisconnectReason;
    use serde_json::json;

    fn event(name: &str, args: Vec<serde_json::Value>) -> ClientEvent<serde_json::Value> {
        ClientEvent::Event {
            name: name.into(),
            args,
            attachments: vec![],
            ack: None,
        }
    }

    #[test]
    fn server_events_become_typed_messages_or_garbage() {
        assert_eq!(
            translate(event(
                "all_users",
                vec![json!([{"id": "a", "email": "ann"}])]
            )),
            Some(SignalingEvent::Message(ServerMessage::AllUsers(vec![
                duet_protocol::signaling::User {
                    id: "a".into(),
                    email: "ann".into(),
                    warm_offer: false,
                }
            ])))
        );
        // Remote input never panics: wrong shapes and unknown events are reported and dropped.
        assert!(matches!(
            translate(event("getOffer", vec![json!("nope")])),
            Some(SignalingEvent::Garbage(_))
        ));
        assert!(matches!(
            translate(event("surprise", vec![])),
            Some(SignalingEvent::Garbage(_))
        ));
        assert_eq!(
            translate(ClientEvent::<serde_json::Value>::Reconnecting {
                attempt: 1,
                delay: Duration::from_millis(800)
            }),
            Some(SignalingEvent::Down {
                retry_in: Duration::from_millis(800)
            })
        );
        assert_eq!(
            translate(ClientEvent::<serde_json::Value>::Disconnected(
                DisconnectReason::TransportClose
            )),
            None
        );
        assert!(matches!(
            translate(ClientEvent::<serde_json::Value>::Disconnected(
                DisconnectReason::ServerDisconnect
            )),
            Some(SignalingEvent::Closed(_))
        ));
    }
}
