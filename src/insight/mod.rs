//! Seeing the call: live stats, the quality indicator, the route media takes, and the safety
//! code against a meddling signaling server. All but the panel is plain Rust, tested natively;
//! the call machine holds the [`monitor::Monitor`] as a part (its inputs and actions are the
//! machine's), and the peer link reads `getStats` and hashes the descriptions for it:
//! - [`record`]: the JS → Rust boundary, a `getStats` entry reduced to the fields Duet reads;
//! - [`sample`]: one reading parsed from those records (route, counters, picture, codecs);
//! - [`stats`]: the panel's figures between two readings, and their text;
//! - [`quality`]: the good / fair / poor rule, a small machine over readings;
//! - [`safety`]: the code both people read to each other, from the applied DTLS fingerprints;
//! - [`monitor`]: the sans-IO machine over them: when to read, what to show and announce;
//! - [`panel`]: the components that show it.

pub mod monitor;
pub mod panel;
pub mod quality;
pub mod record;
pub mod safety;
pub mod sample;
pub mod stats;

#[cfg(test)]
mod recorded;
