//! The call in plain Rust: a sans-IO [`Machine`] that makes every decision of a call (when to
//! open a link, when to offer, glare, holding an offer until the camera is ready, ICE restart
//! and fresh links, telling a hang-up from a signaling drop, the deadlines), and the words the
//! page shows ([`Phase`], [`Problem`], the [`Call`] snapshot). No browser types: it is tested
//! natively with a fake clock, and the session only feeds it [`Input`]s and carries out its
//! [`Action`]s.
//!
//! - [`machine`]: the state, joining and leaving, the camera, the room's messages;
//! - [`negotiation`]: the peer link's offers and answers, the exit check, recovery;
//! - [`parts`]: the code of the chat and the file transfers, which may come later;
//! - [`screen`]: screen sharing; [`chat`]: the chat ([`crate::chat::Chat`], a part); the stats, quality and safety code are
//!   [`crate::insight::monitor::Monitor`], a part the machine feeds;
//! - [`io`]: inputs and actions; [`phase`], [`problem`]: what the page says.

mod chat;
mod files;
mod io;
mod machine;
mod negotiation;
mod parts;
mod phase;
mod problem;
mod screen;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use chat::ChatView;
pub use io::{Action, ChannelEvent, FilesEvent, Input, LinkInput, LinkState};
pub use machine::Machine;
pub use parts::PartsCode;
pub use phase::{Call, Phase};
pub use problem::Problem;

/// How long a connection may stay `disconnected` before ICE is restarted.
pub const DISCONNECT_GRACE: Duration = Duration::from_secs(5);
/// How much longer the polite side waits before its own ICE restart, so that in an outage
/// both sides see (within about 2 s of each other, measured) the impolite side's restart offer
/// comes first and the polite side only answers it. When both offered at once, the polite side
/// rolled back its own restart offer and Chromium then kept that connection "connected" with no
/// media from the other side, for good (issue 12, the 15 s cut: about 1 run in 5). The polite
/// side still restarts on its own, later, for a peer that never does (the original client).
pub const RESTART_YIELD: Duration = Duration::from_secs(4);
/// After `user_exit` with the call up: packets already in flight when the other person hung up
/// (and stats cached by the browser) still arrive for a moment, so the first reading waits.
pub const EXIT_SETTLE: Duration = Duration::from_millis(500);
/// Then how long to watch whether media still arrives: fake and real media send dozens of
/// packets a second, so a second of none means nobody is sending.
pub const EXIT_CHECK: Duration = Duration::from_millis(1000);
/// How long an offer made while recovering may wait for an answer. A live peer answers within
/// a signaling round trip; silence means nobody is there (the original server never says who
/// left).
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(4);
/// How long a joiner waits for the warm offer of a member that advertised one in `all_users`
/// before offering itself. The member sends it on hearing `user_joined`, which the server sends
/// before our `all_users`, so it is normally here before we look; this only covers a member
/// that could not (its signaling dropped meanwhile). A glare then is resolved as usual.
pub const WARM_OFFER_WAIT: Duration = Duration::from_secs(2);
/// How long an ICE restart may take before a fresh connection is tried, and then how long each
/// fresh connection gets before the next, while the other person is in the room.
pub const RESTART_DEADLINE: Duration = Duration::from_secs(8);
