//! Engine.IO protocol v3 packets and WebSocket frames, as spoken by engine.io 3.4 (socket.io 2.3.0).
//!
//! A packet is a type digit followed by optional data. Over a WebSocket a text frame carries
//! `<digit><text>`; a binary frame carries the type as a raw byte (`0x04` for a message) followed by
//! the bytes. Polling payloads, which bundle several packets in one HTTP body, live in
//! [`crate::payload`].
//!
//! Packets keep their data as it was on the wire so that decode followed by encode reproduces the
//! original frame byte for byte; typed views (such as [`Handshake`]) are parsed on demand.

#[cfg(feature = "polling")]
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::json::Json;

/// The seven Engine.IO v3 packet types, with their wire digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// Sent by the server first, with the [`Handshake`] JSON.
    Open = 0,
    /// Either side asks to close the transport.
    Close = 1,
    /// Sent by the client in v3 (the server answers with a pong); `probe` during upgrades.
    Ping = 2,
    /// The answer to a ping, echoing its data.
    Pong = 3,
    /// Carries a Socket.IO packet.
    Message = 4,
    /// Completes a polling to WebSocket upgrade.
    Upgrade = 5,
    /// Flushes a pending poll during upgrades.
    Noop = 6,
}

impl PacketType {
    /// The wire digit of this type.
    pub fn digit(self) -> char {
        char::from(b'0' + self as u8)
    }

    /// The type for a wire number, if it names one.
    pub fn from_number(n: u8) -> Option<Self> {
        Some(match n {
            0 => Self::Open,
            1 => Self::Close,
            2 => Self::Ping,
            3 => Self::Pong,
            4 => Self::Message,
            5 => Self::Upgrade,
            6 => Self::Noop,
            _ => return None,
        })
    }

    fn from_digit(c: char) -> Option<Self> {
        c.to_digit(10).and_then(|d| Self::from_number(d as u8))
    }
}

/// What a packet carries after its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketData {
    /// Nothing: the frame was just the type.
    None,
    /// UTF-8 text (most packets).
    Text(String),
    /// Raw bytes: a binary frame, or a `b<digit><base64>` text packet in a polling payload.
    Binary(Vec<u8>),
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// Its data, kept as on the wire.
    pub data: PacketData,
}

/// A WebSocket frame: the unit a browser WebSocket sends and receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// The JSON of an `open` packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// The Engine.IO session id.
    pub sid: String,
    /// Transports the client may upgrade to.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// How often the client pings, in milliseconds.
    pub ping_interval: u64,
    /// How long the client waits for a pong, in milliseconds.
    pub ping_timeout: u64,
}

impl Handshake {
    /// Reads the handshake fields as the derived `Deserialize` does: `sid` and both intervals
    /// required, `upgrades` optional, other fields ignored.
    pub fn from_json<J: Json>(v: &J) -> Result<Self, &'static str> {
        if !v.is_object() {
            return Err("not an object");
        }
        let number = |key| v.field(key).and_then(|n| n.as_u64());
        let upgrades = match v.field("upgrades") {
            None => Vec::new(),
            Some(list) => list
                .items()
                .and_then(|l| l.iter().map(J::as_string).collect())
                .ok_or("upgrades is not a list of strings")?,
        };
        Ok(Self {
            sid: v
                .field("sid")
                .and_then(|s| s.as_string())
                .ok_or("sid is missing or not a string")?,
            upgrades,
            ping_interval: number("pingInterval").ok_or("pingInterval is missing or invalid")?,
            ping_timeout: number("pingTimeout").ok_or("pingTimeout is missing or invalid")?,
        })
    }
}

/// Why an Engine.IO frame or packet could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A frame with no bytes at all.
    #[error("empty Engine.IO packet")]
    Empty,
    /// The first character or byte is not a known packet type.
    #[error("unknown Engine.IO packet type {0:?}")]
    UnknownType(String),
    /// A `b<digit><base64>` packet whose base64 is invalid.
    #[error("invalid base64 in binary packet: {0}")]
    Base64(String),
    /// A `b<digit><base64>` packet, without the `polling` feature (only polling payloads carry
    /// binary data as text; over a WebSocket it comes as a binary frame).
    #[error("binary data as base64 text, which only the polling transport sends")]
    TextBinary,
    /// The open packet's JSON is not a handshake.
    #[error("invalid handshake: {0}")]
    Handshake(String),
    /// Text that should have been UTF-8 is not.
    #[error("invalid UTF-8 in text packet")]
    Utf8,
}

impl Packet {
    /// A packet of `kind` with no data.
    pub fn new(kind: PacketType) -> Self {
        Self {
            kind,
            data: PacketData::None,
        }
    }

    /// A text packet of `kind`.
    pub fn text(kind: PacketType, text: impl Into<String>) -> Self {
        Self {
            kind,
            data: PacketData::Text(text.into()),
        }
    }

    /// A text message (a Socket.IO packet rides in one of these).
    pub fn message(text: impl Into<String>) -> Self {
        Self::text(PacketType::Message, text)
    }

    /// A binary message (a Socket.IO binary attachment rides in one of these).
    pub fn binary_message(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            kind: PacketType::Message,
            data: PacketData::Binary(bytes.into()),
        }
    }

    /// The text data, if the packet carries text.
    pub fn as_text(&self) -> Option<&str> {
        match &self.data {
            PacketData::Text(t) => Some(t),
            PacketData::None => Some(""),
            PacketData::Binary(_) => None,
        }
    }

    /// Parses an `open` packet's handshake.
    #[cfg(feature = "serde_json")]
    pub fn handshake(&self) -> Result<Handshake, DecodeError> {
        self.handshake_json::<serde_json::Value>()
    }

    /// Parses an `open` packet's handshake with any JSON implementation.
    pub fn handshake_json<J: Json>(&self) -> Result<Handshake, DecodeError> {
        let text = self
            .as_text()
            .ok_or_else(|| DecodeError::Handshake("binary open packet".into()))?;
        Handshake::from_json(&J::parse(text).map_err(DecodeError::Handshake)?)
            .map_err(|e| DecodeError::Handshake(e.to_owned()))
    }

    /// Decodes a WebSocket text frame (or one packet of a text polling payload):
    /// `<digit>[data]`, or `b<digit><base64>` for binary data sent as text.
    pub fn decode_text(frame: &str) -> Result<Self, DecodeError> {
        let mut chars = frame.chars();
        let first = chars.next().ok_or(DecodeError::Empty)?;
        if first == 'b' {
            #[cfg(not(feature = "polling"))]
            return Err(DecodeError::TextBinary);
            #[cfg(feature = "polling")]
            {
                let digit = chars.next().ok_or(DecodeError::Empty)?;
                let kind = PacketType::from_digit(digit)
                    .ok_or_else(|| DecodeError::UnknownType(format!("b{digit}")))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(chars.as_str())
                    .map_err(|e| DecodeError::Base64(e.to_string()))?;
                return Ok(Self {
                    kind,
                    data: PacketData::Binary(bytes),
                });
            }
        }
        let kind =
            PacketType::from_digit(first).ok_or_else(|| DecodeError::UnknownType(first.into()))?;
        let rest = chars.as_str();
        let data = if rest.is_empty() {
            PacketData::None
        } else {
            PacketData::Text(rest.to_owned())
        };
        Ok(Self { kind, data })
    }

    /// Decodes a WebSocket binary frame: the type as a raw byte, then the data.
    pub fn decode_binary(frame: &[u8]) -> Result<Self, DecodeError> {
        let (&kind, rest) = frame.split_first().ok_or(DecodeError::Empty)?;
        let kind = PacketType::from_number(kind)
            .ok_or_else(|| DecodeError::UnknownType(format!("0x{kind:02x}")))?;
        Ok(Self {
            kind,
            data: PacketData::Binary(rest.to_vec()),
        })
    }

    /// Decodes either kind of WebSocket frame.
    pub fn decode_frame(frame: &Frame) -> Result<Self, DecodeError> {
        match frame {
            Frame::Text(t) => Self::decode_text(t),
            Frame::Binary(b) => Self::decode_binary(b),
        }
    }

    /// Encodes for a WebSocket: text packets as text frames, binary ones as binary frames.
    pub fn encode_frame(&self) -> Frame {
        match &self.data {
            PacketData::None => Frame::Text(self.kind.digit().to_string()),
            PacketData::Text(t) => {
                let mut s = String::with_capacity(t.len() + 1);
                s.push(self.kind.digit());
                s.push_str(t);
                Frame::Text(s)
            }
            PacketData::Binary(b) => {
                let mut v = Vec::with_capacity(b.len() + 1);
                v.push(self.kind as u8);
                v.extend_from_slice(b);
                Frame::Binary(v)
            }
        }
    }

    /// Encodes as text, binary data as `b<digit><base64>` (what a polling payload carries for a
    /// client that does not support binary).
    #[cfg(feature = "polling")]
    pub fn encode_text(&self) -> String {
        match &self.data {
            PacketData::Binary(b) => {
                let mut s = String::from("b");
                s.push(self.kind.digit());
                base64::engine::general_purpose::STANDARD.encode_string(b, &mut s);
                s
            }
            _ => match self.encode_frame() {
                Frame::Text(t) => t,
                Frame::Binary(_) => unreachable!("text and empty packets encode as text"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_type_digit() {
        for (digit, kind) in [
            ('0', PacketType::Open),
            ('1', PacketType::Close),
            ('2', PacketType::Ping),
            ('3', PacketType::Pong),
            ('4', PacketType::Message),
            ('5', PacketType::Upgrade),
            ('6', PacketType::Noop),
        ] {
            let p = Packet::decode_text(&digit.to_string()).unwrap();
            assert_eq!(p, Packet::new(kind));
            assert_eq!(p.encode_frame(), Frame::Text(digit.to_string()));
        }
    }

    #[test]
    fn ping_probe_round_trips() {
        let p = Packet::decode_text("3probe").unwrap();
        assert_eq!(p, Packet::text(PacketType::Pong, "probe"));
        assert_eq!(p.encode_frame(), Frame::Text("3probe".into()));
    }

    #[test]
    fn binary_frame_has_type_byte() {
        let p = Packet::decode_binary(&[4, 1, 2, 3]).unwrap();
        assert_eq!(p, Packet::binary_message(vec![1, 2, 3]));
        assert_eq!(p.encode_frame(), Frame::Binary(vec![4, 1, 2, 3]));
        #[cfg(feature = "polling")]
        {
            assert_eq!(p.encode_text(), "b4AQID");
            assert_eq!(Packet::decode_text("b4AQID").unwrap(), p);
        }
        #[cfg(not(feature = "polling"))]
        assert_eq!(Packet::decode_text("b4AQID"), Err(DecodeError::TextBinary));
    }

    #[test]
    fn handshake_parses() {
        let p = Packet::decode_text(
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#,
        )
        .unwrap();
        let h = p.handshake().unwrap();
        assert_eq!(h.sid, "abc");
        assert_eq!(h.ping_interval, 25000);
        assert_eq!(h.ping_timeout, 5000);
    }

    #[test]
    fn rejects_bad_frames() {
        assert_eq!(Packet::decode_text(""), Err(DecodeError::Empty));
        assert!(matches!(
            Packet::decode_text("9"),
            Err(DecodeError::UnknownType(_))
        ));
        assert!(matches!(
            Packet::decode_text("b4!!"),
            Err(DecodeError::Base64(_))
        ));
        assert!(matches!(
            Packet::decode_binary(&[7]),
            Err(DecodeError::UnknownType(_))
        ));
        assert_eq!(Packet::decode_binary(&[]), Err(DecodeError::Empty));
        assert!(matches!(
            Packet::text(PacketType::Open, "{}").handshake(),
            Err(DecodeError::Handshake(_))
        ));
    }
}
