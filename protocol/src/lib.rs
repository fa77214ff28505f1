//! # duet-protocol
//!
//! The wire protocol of Duet's signaling, with no I/O and no async: the exact wire format of
//! socket.io 2.3.0 (Engine.IO protocol v3, Socket.IO protocol v4), the typed signaling events of
//! the original design, and a client state machine that the browser frontend, the tests and the
//! load generator all drive with their own sockets and clocks.
//!
//! Layers, bottom up:
//! - [`engineio`]: one Engine.IO packet per WebSocket frame; `payload`: the polling bodies
//!   (feature `polling`, default).
//! - [`socketio`]: Socket.IO packets inside Engine.IO messages; [`binary`]: attachments.
//! - [`signaling`]: `join_room`, `offer`, `getOffer`, … as Rust types with size limits;
//!   [`names`]: their event names and error codes, defined once.
//! - [`json`]: the JSON implementation the layers above are generic over: `serde_json` natively
//!   (feature `serde_json`, default), the browser's own `JSON` in the frontend.
//! - [`client`]: connect, heartbeat, buffering and reconnection as a sans-IO state machine.
//!
//! Every decoder returns a typed error for bad input; none panics.

pub mod backoff;
pub mod binary;
pub mod client;
pub mod endpoint;
pub mod engineio;
pub mod json;
pub mod names;
#[cfg(feature = "polling")]
pub mod payload;
pub mod signaling;
pub mod socketio;

pub use client::{ClientConfig, ClientEvent, Command, SocketClient};
pub use engineio::Frame;
pub use signaling::{ClientMessage, ServerMessage};
