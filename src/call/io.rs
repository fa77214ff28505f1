//! What the call machine is told ([`Input`]) and what it asks for ([`Action`]). Plain data, so
//! the machine runs natively under tests with a fake clock; the session turns browser callbacks
//! into inputs and carries actions out with web-sys.
//!
//! Resources the machine opens (the signaling connection, the peer link, a camera request) carry
//! a number it hands out in the opening action; inputs from them carry it back, so events of a
//! resource already replaced are recognised and ignored here, not in the session.
//!
//! Features join as new variants: the stats, quality and safety code of issue 13 are
//! [`Action::ReadStats`] / [`Action::WorkOutSafetyCode`] answered by link inputs; a data channel
//! (chat, files) would be a link input for its messages and an action to send on it; the screen
//! share is [`Action::SendScreen`] / [`Action::StopScreen`] with a "track ended" input.

use std::time::Duration;

use duet_protocol::ClientMessage;
use duet_protocol::signaling::{IceCandidate, ServerMessage, SessionDescription};

use super::Problem;
use crate::insight::monitor::Reading;

/// The peer connection's state as the machine needs it (RTCPeerConnection.connectionState, with
/// `failed` split by what failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// new / connecting.
    Connecting,
    /// Media flows.
    Connected,
    /// Temporarily lost (may recover on its own).
    Disconnected,
    /// ICE found no path (any more); an ICE restart may find one.
    Failed,
    /// ICE connected but the connection still failed: the DTLS handshake over the path did not
    /// complete (iceConnectionState connected or completed while connectionState is failed).
    HandshakeFailed,
}

/// What the link's chat channel reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    /// It opened.
    Open,
    /// It closed.
    Closed,
    /// A text frame.
    Text(String),
    /// A binary frame (the chat takes none).
    Binary,
    /// A text frame too large to read at all (not copied out of the browser).
    Oversized,
}

/// What the link's file channel reports (binary chunks go to [`super::Machine::take_chunk`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesEvent {
    /// It opened.
    Open,
    /// It closed.
    Closed,
    /// A text frame (offers, confirmations, cancels).
    Text(String),
    /// Its `bufferedAmount` now (after sending, and on `bufferedamountlow`).
    Buffered(u64),
}

/// What a peer link reports, tagged with its number in [`Input::Link`].
#[derive(Debug, Clone, PartialEq)]
pub enum LinkInput {
    /// The link could not be opened (the browser refused the configuration).
    OpenFailed(String),
    /// `MakeOffer` or `AcceptOffer` produced this description, set locally: send it.
    Described(SessionDescription),
    /// `MakeOffer` or `AcceptOffer` failed (the browser's words).
    NegotiationFailed(String),
    /// A local candidate to send to the other side.
    Candidate(IceCandidate),
    /// The connection state changed.
    State(LinkState),
    /// An ICE candidate error (`icecandidateerror`): STUN/TURN's error code.
    CandidateError(u16),
    /// RTP packets received so far on all inbound streams (answers [`Action::CountPackets`]).
    Packets(u64),
    /// A `getStats` reading (answers [`Action::ReadStats`]; `None`: the browser refused).
    Stats(Option<Reading>),
    /// The safety code of the applied descriptions (answers [`Action::WorkOutSafetyCode`];
    /// `None`: a description or its fingerprint is missing, or the browser cannot hash).
    SafetyCode(Option<String>),
    /// The chat channel's event.
    Chat(ChannelEvent),
    /// The file channel's event.
    Files(FilesEvent),
}

/// Something that happened, fed to [`super::Machine::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The user asks to join `room` as `name` (also "Join again" after an end).
    Join {
        /// Room name.
        room: String,
        /// Display name.
        name: String,
    },
    /// The user hangs up (or the page goes away).
    HangUp,
    /// The camera request of this number answered with media, maybe degraded (a notice such
    /// as [`Problem::NoCamera`]).
    MediaReady(u64, Option<Problem>),
    /// The camera request of this number failed.
    MediaFailed(u64, Problem),
    /// The signaling connection of this number is up (first time or again).
    SignalingUp(u64),
    /// It is down; its next attempt is in this long.
    SignalingDown(u64, Duration),
    /// The server refused the connection or ended the session for good (no retry).
    SignalingClosed(u64, String),
    /// A message from the server on connection number `.0`.
    Server(u64, ServerMessage),
    /// Something the peer link of this number reported.
    Link(u64, LinkInput),
    /// The user opens or closes the stats panel.
    StatsPanel(bool),
    /// The remote video shows its first frame (the set-up time's end).
    FirstRemoteFrame,
    /// The user turned the camera on or off (the quality rule expects no video bitrate while
    /// it is off).
    Camera(bool),
    /// The user cancels the file transfer with this key.
    CancelFile(u64),
    /// The slice a file action asked for is read and held by the session.
    FileRead {
        /// The outgoing transfer.
        id: u32,
        /// Its first byte.
        start: u64,
        /// One past its last byte.
        end: u64,
    },
    /// Reading outgoing file `.0` failed.
    FileReadFailed(u32),
    /// The user sends a chat message.
    SendChat(String),
    /// The user opens or closes the chat panel.
    ChatPanel(bool),
    /// The share-screen button or the `s` key.
    ToggleScreen,
    /// The screen request of this number gave a screen track (the session holds it).
    ScreenGranted(u64),
    /// The screen request of this number was refused or its picker cancelled.
    ScreenRefused(u64),
    /// The screen track of this request ended (the browser's own "stop sharing").
    ScreenEnded(u64),
}

/// Something for the session to do, drained with [`super::Machine::poll_action`] in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ask for camera and microphone; answer with [`Input::MediaReady`] / [`Input::MediaFailed`]
    /// carrying this number.
    AcquireMedia(u64),
    /// Stop the camera and microphone (and forget any request still running).
    ReleaseMedia,
    /// Open a signaling connection (closing any other); its events carry this number.
    OpenSignaling(u64),
    /// Close the signaling connection.
    CloseSignaling,
    /// Send a message on the signaling connection (buffered while it reconnects).
    Send(ClientMessage),
    /// Open a peer link (closing any other), with the local media if there is some; its events
    /// carry this number.
    OpenLink(u64),
    /// Close the peer link and clear the remote video.
    CloseLink,
    /// Declare an audio and a video sender without tracks, so an offer can go out before the
    /// camera is ready.
    DeclareSenders,
    /// Give the link the local media that just became ready (tracks for the declared senders,
    /// or added as tracks when nothing was negotiated yet).
    AttachMedia,
    /// Create an offer (with fresh ICE credentials for a restart) and set it locally; report it
    /// with [`LinkInput::Described`].
    MakeOffer {
        /// Ask for an ICE restart.
        ice_restart: bool,
    },
    /// Apply the other side's offer (rolling back our own if one is pending), create the answer
    /// and set it locally; report it with [`LinkInput::Described`].
    AcceptOffer(SessionDescription),
    /// As [`Action::AcceptOffer`] while the camera is still starting: the answer declares
    /// audio and video senders without tracks, which [`Action::AttachMedia`] gives their tracks
    /// later without renegotiating. Only for a warm offer (a Duet member's, whose page takes
    /// the remote tracks whatever streams the answer names), so the other person appears
    /// without waiting for our camera.
    AcceptOfferBeforeMedia(SessionDescription),
    /// Apply the other side's answer to our offer.
    AcceptAnswer(SessionDescription),
    /// Add a remote candidate (the link holds it until the remote description is set).
    AddCandidate(IceCandidate),
    /// Make our video's next frame a key frame: the link is back after an outage and the
    /// other side cannot decode anything before one.
    RefreshVideo,
    /// Read the inbound packet count; answer with [`LinkInput::Packets`].
    CountPackets,
    /// Read the link's stats; answer with [`LinkInput::Stats`].
    ReadStats,
    /// Work out the safety code from the link's applied descriptions; answer with
    /// [`LinkInput::SafetyCode`].
    WorkOutSafetyCode,
    /// Send this frame on the link's chat channel.
    SendChat(String),
    /// What the file transfers ask for (send a frame, read a slice, send a chunk, release a
    /// file, assemble or discard a received one).
    Files(crate::transfer::Action),
    /// Open the browser's screen picker (getDisplayMedia); answer with
    /// [`Input::ScreenGranted`] / [`Input::ScreenRefused`] carrying this number.
    CaptureScreen(u64),
    /// Send the granted screen track instead of the camera's (`replaceTrack`) and show it in
    /// the own preview.
    SendScreen,
    /// Stop the screen track; send and show the camera again.
    StopScreen,
    /// Leave a `performance.mark` named this (set-up timing).
    Mark(&'static str),
}
