//! Shared pieces of Duet's benchmarks: realistic signaling payloads and the load generator's
//! Socket.IO client connection.

pub mod bundle;
pub mod conn;
pub mod generator;
pub mod load;
pub mod nodes;
pub mod payloads;
pub mod servers;
pub mod soak;
