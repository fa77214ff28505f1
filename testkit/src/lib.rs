//! # duet-testkit
//!
//! What Duet's server tests, benchmarks and end-to-end suite share, written once:
//! - [`corpus`]: the malformed-input corpus (every layer's bad input and the typed error it
//!   must give), checked by duet-protocol's tests and sent raw to the server by its tests;
//! - [`sio`]: duet-protocol's sans-IO Socket.IO client driven over tokio-tungstenite (the
//!   handshake and the frame plumbing every native client needs);
//! - [`process`]: child processes killed by PID on drop, the port a server prints, free
//!   ports, and redis-server started the same way everywhere.
//!
//! Not published; a dev-dependency (the benchmarks use it as a dependency).

pub mod corpus;
#[cfg(not(target_arch = "wasm32"))]
pub mod process;
#[cfg(not(target_arch = "wasm32"))]
pub mod sio;
