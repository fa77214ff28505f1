//! Problems in words: what went wrong and what to do about it, shown as `#callproblem`.

use duet_protocol::signaling::{ErrorCode, MAX_EMAIL_CHARS, MAX_ROOM_CHARS, SignalError};

/// Something the user should know, in words, with what to do about it. Some stop the call
/// (see [`Problem::is_fatal`]); the others are notices shown beside a working call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The browser or the user refused camera and microphone.
    #[error(
        "Camera and microphone access was denied. Allow them in the browser's site settings (the icon left of the address bar), then press Join again."
    )]
    PermissionDenied,
    /// No camera: the call goes on with audio only.
    #[error(
        "No camera found: you are sending audio only. Plug in a camera and pick it under Camera."
    )]
    NoCamera,
    /// No microphone: the call goes on with video only.
    #[error("No microphone found: the other person can see but not hear you.")]
    NoMicrophone,
    /// Neither: the call goes on receive-only.
    #[error(
        "No camera or microphone found: you can see and hear the other person, but they cannot see or hear you."
    )]
    NoDevices,
    /// Another application holds the camera or microphone.
    #[error(
        "The camera or microphone is in use by another application (or tab). Close it, then press Join again."
    )]
    DeviceBusy,
    /// The chosen device cannot provide what was asked.
    #[error(
        "The selected camera or microphone is not available ({0}). Pick another device and try again."
    )]
    DeviceUnavailable(String),
    /// getUserMedia needs https or localhost.
    #[error(
        "This page is not secure, so the browser will not share your camera. Open it over https, or at http://localhost on this machine{}.",
        .0.as_deref().map(|u| format!(" (for example {u})")).unwrap_or_default()
    )]
    InsecureContext(Option<String>),
    /// The browser has no WebRTC or media support.
    #[error("This browser does not support video calls. Use a recent Chrome, Firefox or Safari.")]
    Unsupported,
    /// Any other media failure.
    #[error("The camera or microphone failed: {0}. Reload the page to try again.")]
    MediaFailed(String),
    /// The signaling server cannot be reached; retrying.
    #[error("Cannot reach the call server; retrying in {0} s. Check your network connection.")]
    SignalingUnreachable(u64),
    /// The signaling server is gone while media still flows.
    #[error("Lost the call server; the call continues and Duet is reconnecting.")]
    SignalingLostInCall,
    /// `?server=` is not a usable URL.
    #[error("The server address \"{0}\" is not valid: use an http:// or https:// URL.")]
    BadServer(String),
    /// The room name is not allowed (duet-protocol's `validate_room`).
    #[error("Room names use 1 to {MAX_ROOM_CHARS} letters, digits, '-', '_' or '.'.")]
    BadRoom,
    /// The room holds two people already.
    #[error("Room \"{0}\" already has two people in it. Pick another room name.")]
    RoomFull(String),
    /// The other person's connection was lost.
    #[error("The connection to the other person was lost. Waiting for them to come back.")]
    PeerLost,
    /// The server refused something this client sent.
    #[error("The call server refused a request: {0}")]
    ServerRejected(String),
    /// The server has no room for another connection (`error server_full`).
    #[error("The call server is at capacity. Wait a few minutes, then press Join again.")]
    ServerFull,
    /// The server could not take the join now (`error unavailable`: with several nodes, their
    /// shared store is unreachable). It passes within seconds, so the user retries.
    #[error(
        "The call service is briefly unavailable. Wait a few seconds, then press Join to try again."
    )]
    ServiceUnavailable,
    /// The same while in the room: a message to the other person was not passed on.
    #[error(
        "The call service is briefly unavailable, so a message to the other person was lost. If the call does not connect within a few seconds, hang up and join again."
    )]
    ServiceUnavailableInCall,
    /// The name is too long (duet-protocol's rule; the server's `error bad_name`).
    #[error(
        "That name is too long: use at most {MAX_EMAIL_CHARS} characters, then press Join again."
    )]
    BadName,
    /// The server dropped one message from this page (`rate_limited`, `not_in_room`, or a
    /// message it could not read); the call may still work.
    #[error(
        "The call server dropped a message from this page ({0}). If the call does not connect, hang up and join again."
    )]
    MessageDropped(String),
    /// ICE found a path to the other person but the secure (DTLS) handshake over it failed:
    /// the fingerprints in the descriptions did not match what the other side presented (changed
    /// on the way), or the other browser broke off.
    #[error(
        "The secure connection to the other person could not be set up: someone may be interfering with the connection, or the other browser failed. Press Join to try again."
    )]
    SecureSetupFailed,
    /// The TURN relay refused this page's credentials (an ICE candidate error 401 or 403).
    #[error(
        "The relay server refused this page's credentials, so calls that need it cannot connect. Reload the page to get fresh ones; if it persists, tell whoever runs this server."
    )]
    RelayRefused,
    /// Setting up the peer connection failed.
    #[error("Could not set up the call: {0}. Hang up and join again.")]
    PeerFailed(String),
}

impl Problem {
    /// Whether this ends the attempt (error or room-full) rather than being a notice beside a
    /// call that goes on.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::PermissionDenied
                | Self::DeviceBusy
                | Self::DeviceUnavailable(_)
                | Self::InsecureContext(_)
                | Self::Unsupported
                | Self::MediaFailed(_)
                | Self::BadServer(_)
                | Self::BadRoom
                | Self::RoomFull(_)
                | Self::ServerRejected(_)
                | Self::ServerFull
                | Self::ServiceUnavailable
                | Self::BadName
                | Self::PeerFailed(_)
                | Self::SecureSetupFailed
        )
    }

    /// What the page says about the server's `error {code}`; `join_refused` tells a refused
    /// join (which ends the attempt: the page is in no room) from a refused relay (a notice
    /// beside a call that may still work). No wildcard: a new [`ErrorCode`] does not compile
    /// until it has words here.
    pub fn from_server_error(code: ErrorCode, join_refused: bool) -> Self {
        let dropped = |why: &str| Self::MessageDropped(why.to_owned());
        match code {
            ErrorCode::BadRoom => Self::BadRoom,
            ErrorCode::BadName => Self::BadName,
            ErrorCode::ServerFull => Self::ServerFull,
            ErrorCode::Unavailable if join_refused => Self::ServiceUnavailable,
            ErrorCode::Unavailable => Self::ServiceUnavailableInCall,
            ErrorCode::RateLimited => dropped("too many messages"),
            ErrorCode::NotInRoom => dropped("this page is not in the room"),
            ErrorCode::SdpTooLarge => dropped("call description too large"),
            ErrorCode::CandidateTooLarge => dropped("network address too large"),
            ErrorCode::UnknownEvent | ErrorCode::BadPayload => {
                dropped("it could not read it; is this page up to date?")
            }
            ErrorCode::Unknown => dropped("for a reason this page does not know"),
        }
    }
}

impl From<SignalError> for Problem {
    /// A join the protocol's rules refuse, in the same words as the server's refusal.
    fn from(e: SignalError) -> Self {
        Self::from_server_error(e.code(), true)
    }
}
