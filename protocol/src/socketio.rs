//! Socket.IO protocol v4 packets (socket.io-parser 3.x, used by socket.io 2.3.0).
//!
//! Text form: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, where the namespace is
//! written only when it is not `/` and the attachment count only for binary packets. A binary
//! packet's JSON holds `{"_placeholder":true,"num":N}` where its N-th attachment goes; the
//! attachments follow as separate binary Engine.IO messages, which [`Decoder`] collects.

#[cfg(feature = "serde_json")]
use serde_json::Value;

#[cfg(feature = "serde_json")]
use crate::binary::Data;
use crate::binary::{self};
use crate::json::{DefaultJson, Json};

/// Most binary attachments accepted on one packet. Each one is a separate frame the decoder must
/// wait for, so a lying count would otherwise stall the connection forever.
pub const MAX_ATTACHMENTS: usize = 256;

/// The seven Socket.IO v4 packet types, with their wire digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// Connect to a namespace (server → client: connected).
    Connect = 0,
    /// Leave a namespace.
    Disconnect = 1,
    /// An event: `["name", args…]`.
    Event = 2,
    /// The answer to an event that asked for one.
    Ack = 3,
    /// The server refused a namespace connect.
    Error = 4,
    /// An event with binary attachments.
    BinaryEvent = 5,
    /// An ack with binary attachments.
    BinaryAck = 6,
}

impl PacketKind {
    fn from_digit(c: char) -> Option<Self> {
        Some(match c {
            '0' => Self::Connect,
            '1' => Self::Disconnect,
            '2' => Self::Event,
            '3' => Self::Ack,
            '4' => Self::Error,
            '5' => Self::BinaryEvent,
            '6' => Self::BinaryAck,
            _ => return None,
        })
    }

    /// Whether packets of this kind carry binary attachments.
    pub fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }
}

/// One Socket.IO packet. Binary packets keep placeholders in `data` and the bytes in
/// `attachments`; [`Packet::data_with_binary`] puts them back together.
///
/// `J` is the JSON implementation the data is held in (see [`crate::json`]): `serde_json::Value`
/// natively, the browser's own JSON in the frontend.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet<J = DefaultJson> {
    /// The packet type.
    pub kind: PacketKind,
    /// The namespace as on the wire, `/` by default; a client's CONNECT may append `?query`.
    pub nsp: String,
    /// The ack id, when the sender wants an answer (or this is the answer).
    pub id: Option<u64>,
    /// The JSON data: an array for events and acks, anything for errors.
    pub data: Option<J>,
    /// The binary attachments of a binary packet, in placeholder order.
    pub attachments: Vec<Vec<u8>>,
}

/// Why a Socket.IO packet could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// An empty string.
    #[error("empty Socket.IO packet")]
    Empty,
    /// The first character is not a packet type.
    #[error("unknown Socket.IO packet type {0:?}")]
    UnknownType(char),
    /// A binary packet's attachment count is missing, malformed or too large.
    #[error("invalid attachment count")]
    BadAttachments,
    /// The ack id is not a number that fits in 64 bits.
    #[error("invalid ack id")]
    BadAckId,
    /// The JSON does not parse (including nesting deeper than the parser allows).
    #[error("invalid JSON payload: {0}")]
    Json(String),
    /// The JSON parses but has the wrong shape for the packet type (events need an array).
    #[error("invalid payload for a {0:?} packet")]
    WrongShape(PacketKind),
    /// A binary frame arrived while no binary packet was waiting for attachments.
    #[error("binary attachment without a binary packet")]
    UnexpectedBinary,
    /// A text packet arrived while a binary packet still waited for attachments.
    #[error("text packet while {0} attachment(s) are still expected")]
    MissingAttachments(usize),
    /// A binary packet, without the `binary` feature.
    #[error("binary Socket.IO packet, which this build does not take")]
    BinaryUnsupported,
    /// A placeholder names an attachment that does not exist.
    #[error("placeholder {num} but only {count} attachment(s)")]
    BadPlaceholder {
        /// The number in the placeholder.
        num: u64,
        /// How many attachments the packet has.
        count: usize,
    },
}

impl From<binary::BadPlaceholder> for DecodeError {
    fn from(e: binary::BadPlaceholder) -> Self {
        Self::BadPlaceholder {
            num: e.num,
            count: e.count,
        }
    }
}

impl<J: Json> Packet<J> {
    /// A packet of `kind` on the root namespace with no id and no data, over any JSON
    /// implementation ([`Packet::new`] is the `serde_json` one).
    pub fn blank(kind: PacketKind) -> Self {
        Self {
            kind,
            nsp: "/".to_owned(),
            id: None,
            data: None,
            attachments: Vec::new(),
        }
    }

    /// An event `[name, args…]` on the root namespace, over any JSON implementation.
    pub fn json_event(name: &str, args: impl IntoIterator<Item = J>) -> Self {
        let mut array = vec![J::string(name)];
        array.extend(args);
        Self {
            data: Some(J::array(array)),
            ..Self::blank(PacketKind::Event)
        }
    }

    /// Sets the namespace.
    pub fn with_nsp(mut self, nsp: impl Into<String>) -> Self {
        self.nsp = nsp.into();
        self
    }

    /// Sets the ack id.
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = Some(id);
        self
    }

    /// The namespace without any `?query`.
    pub fn namespace(&self) -> &str {
        self.nsp.split_once('?').map_or(&self.nsp, |(n, _)| n)
    }

    /// The `?query` of a CONNECT, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.nsp.split_once('?').map(|(_, q)| q)
    }

    /// An event packet's name and arguments, over any JSON implementation; `None` when this is
    /// not an event or its data does not start with a name.
    pub fn event_parts(&self) -> Option<(String, Vec<J>)> {
        if !matches!(self.kind, PacketKind::Event | PacketKind::BinaryEvent) {
            return None;
        }
        let mut items = self.data.as_ref()?.items()?.into_iter();
        let name = items.next()?.as_string()?;
        Some((name, items.collect()))
    }

    /// An ack packet's arguments (the whole array), over any JSON implementation.
    pub fn ack_args(&self) -> Vec<J> {
        match self.kind {
            PacketKind::Ack | PacketKind::BinaryAck => {
                self.data.as_ref().and_then(Json::items).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// Encodes the text part. Binary attachments are sent after it, one binary message each.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        s.push(char::from(b'0' + self.kind as u8));
        if self.kind.is_binary() {
            s.push_str(&self.attachments.len().to_string());
            s.push('-');
        }
        if !self.nsp.is_empty() && self.nsp != "/" {
            s.push_str(&self.nsp);
            s.push(',');
        }
        if let Some(id) = self.id {
            s.push_str(&id.to_string());
        }
        if let Some(data) = &self.data {
            s.push_str(&data.to_text());
        }
        s
    }

    /// Decodes the text part of a packet over any JSON implementation ([`Packet::decode`] is
    /// the `serde_json` one). A binary packet comes back with no attachments yet and the number
    /// it expects; use [`Decoder`] to collect them.
    pub fn parse(text: &str) -> Result<(Self, usize), DecodeError> {
        let mut rest = text;
        let first = rest.chars().next().ok_or(DecodeError::Empty)?;
        let kind = PacketKind::from_digit(first).ok_or(DecodeError::UnknownType(first))?;
        rest = &rest[first.len_utf8()..];

        let mut expected = 0;
        if kind.is_binary() {
            let dash = rest.find('-').ok_or(DecodeError::BadAttachments)?;
            let digits = &rest[..dash];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DecodeError::BadAttachments);
            }
            expected = digits
                .parse::<usize>()
                .ok()
                .filter(|&n| n <= MAX_ATTACHMENTS)
                .ok_or(DecodeError::BadAttachments)?;
            rest = &rest[dash + 1..];
        }

        let mut nsp = "/".to_owned();
        if rest.starts_with('/') {
            let end = rest.find(',').unwrap_or(rest.len());
            nsp = rest[..end].to_owned();
            rest = rest.get(end + 1..).unwrap_or("");
        }

        let id_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let id = if id_len > 0 {
            Some(
                rest[..id_len]
                    .parse::<u64>()
                    .map_err(|_| DecodeError::BadAckId)?,
            )
        } else {
            None
        };
        rest = &rest[id_len..];

        let data = if rest.is_empty() {
            None
        } else {
            let value = J::parse(rest).map_err(DecodeError::Json)?;
            if kind != PacketKind::Error && value.items().is_none() {
                return Err(DecodeError::WrongShape(kind));
            }
            // An error packet carries a message (a string) or an object. Anything else, a bare
            // number above all, cannot be encoded back: `4` + `62` reads as ack id 62 with no
            // data (found by fuzzing: `4\t62` decoded to data 62 and re-encoded to `462`).
            if kind == PacketKind::Error && !(value.is_object() || value.as_string().is_some()) {
                return Err(DecodeError::WrongShape(kind));
            }
            Some(value)
        };
        Ok((
            Self {
                kind,
                nsp,
                id,
                data,
                attachments: Vec::new(),
            },
            expected,
        ))
    }
}

/// The `serde_json` API, used natively by the server's tests, the benchmarks and the fuzzers.
#[cfg(feature = "serde_json")]
impl Packet {
    /// A packet of `kind` on the root namespace with no id and no data.
    pub fn new(kind: PacketKind) -> Self {
        Self::blank(kind)
    }

    /// An event `[name, args…]` on the root namespace.
    pub fn event(name: &str, args: impl IntoIterator<Item = Value>) -> Self {
        Self::json_event(name, args)
    }

    /// An event whose arguments may hold binary data: binary parts are replaced by placeholders
    /// and moved to attachments, making a BINARY_EVENT when there are any.
    pub fn event_with_binary(name: &str, args: Vec<Data>) -> Self {
        let mut all = vec![Data::String(name.to_owned())];
        all.extend(args);
        let (data, attachments) = binary::deconstruct(&Data::Array(all));
        let kind = if attachments.is_empty() {
            PacketKind::Event
        } else {
            PacketKind::BinaryEvent
        };
        Self {
            data: Some(data),
            attachments,
            ..Self::new(kind)
        }
    }

    /// Decodes the text part of a packet. A binary packet comes back with no attachments yet and
    /// `expected_attachments` set; use [`Decoder`] to collect them.
    pub fn decode(text: &str) -> Result<(Self, usize), DecodeError> {
        Self::parse(text)
    }

    /// The event name of an event packet.
    pub fn event_name(&self) -> Option<&str> {
        match (&self.kind, &self.data) {
            (PacketKind::Event | PacketKind::BinaryEvent, Some(Value::Array(a))) => {
                a.first()?.as_str()
            }
            _ => None,
        }
    }

    /// The arguments after the event name (events) or the whole array (acks).
    pub fn args(&self) -> &[Value] {
        match (&self.kind, &self.data) {
            (PacketKind::Event | PacketKind::BinaryEvent, Some(Value::Array(a)))
                if !a.is_empty() =>
            {
                &a[1..]
            }
            (PacketKind::Ack | PacketKind::BinaryAck, Some(Value::Array(a))) => a,
            _ => &[],
        }
    }

    /// The data with placeholders replaced by their attachments.
    pub fn data_with_binary(&self) -> Result<Option<Data>, DecodeError> {
        let attachments: &[Vec<u8>] = if self.kind.is_binary() {
            &self.attachments
        } else {
            &[]
        };
        self.data
            .as_ref()
            .map(|d| binary::reconstruct(d, attachments, self.kind.is_binary()))
            .transpose()
            .map_err(DecodeError::from)
    }
}

/// Turns a stream of Engine.IO messages (text and binary) into whole Socket.IO packets,
/// collecting each binary packet's attachments.
#[derive(Debug)]
pub struct Decoder<J = DefaultJson> {
    pending: Option<(Packet<J>, usize)>,
}

impl<J> Default for Decoder<J> {
    fn default() -> Self {
        Self { pending: None }
    }
}

#[cfg(feature = "serde_json")]
impl Decoder {
    /// A decoder waiting for a text packet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<J: Json> Decoder<J> {
    /// Feeds a text message. Returns the packet when it is complete, `None` when it waits for
    /// attachments.
    pub fn decode_text(&mut self, text: &str) -> Result<Option<Packet<J>>, DecodeError> {
        if let Some((p, expected)) = self.pending.take() {
            return Err(DecodeError::MissingAttachments(
                expected - p.attachments.len(),
            ));
        }
        let (packet, expected) = Packet::parse(text)?;
        if !cfg!(feature = "binary") && packet.kind.is_binary() {
            return Err(DecodeError::BinaryUnsupported);
        }
        if expected == 0 {
            Self::check_placeholders(&packet)?;
            Ok(Some(packet))
        } else {
            self.pending = Some((packet, expected));
            Ok(None)
        }
    }

    /// Feeds a binary message (one attachment).
    pub fn decode_binary(&mut self, bytes: &[u8]) -> Result<Option<Packet<J>>, DecodeError> {
        if !cfg!(feature = "binary") {
            return Err(DecodeError::UnexpectedBinary);
        }
        let (mut packet, expected) = self.pending.take().ok_or(DecodeError::UnexpectedBinary)?;
        packet.attachments.push(bytes.to_vec());
        if packet.attachments.len() < expected {
            self.pending = Some((packet, expected));
            return Ok(None);
        }
        Self::check_placeholders(&packet)?;
        Ok(Some(packet))
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Drops a half-received binary packet (for example when the transport closes).
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Placeholders mean something only in binary packets; in a plain event the same JSON is
    /// just data, as in socket.io-parser.
    fn check_placeholders(packet: &Packet<J>) -> Result<(), DecodeError> {
        match &packet.data {
            Some(d) if cfg!(feature = "binary") && packet.kind.is_binary() => {
                Ok(binary::check_placeholders(d, packet.attachments.len())?)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(text: &str) -> Packet {
        let (p, _) = Packet::decode(text).unwrap();
        assert_eq!(p.encode(), text, "re-encode of {text}");
        p
    }

    #[test]
    fn decodes_the_shapes_socket_io_sends() {
        assert_eq!(round_trip("0").kind, PacketKind::Connect);
        let p = round_trip("0/admin,");
        assert_eq!(p.nsp, "/admin");
        let p = round_trip("0/admin?token=abc,");
        assert_eq!(p.namespace(), "/admin");
        assert_eq!(p.query(), Some("token=abc"));
        let p = round_trip(r#"2["join_room",{"room":"1234","email":"a@b"}]"#);
        assert_eq!(p.event_name(), Some("join_room"));
        assert_eq!(p.args(), &[json!({"room":"1234","email":"a@b"})]);
        let p = round_trip(r#"2/admin,12["ev"]"#);
        assert_eq!((p.nsp.as_str(), p.id), ("/admin", Some(12)));
        let p = round_trip(r#"312["ok",1]"#);
        assert_eq!(p.args(), &[json!("ok"), json!(1)]);
        let p = round_trip(r#"4"Invalid namespace""#);
        assert_eq!(p.data, Some(json!("Invalid namespace")));
        round_trip("1");
        round_trip("1/admin,");
    }

    #[test]
    fn binary_event_collects_attachments() {
        let mut d = Decoder::new();
        let text = r#"51-["file",{"_placeholder":true,"num":0}]"#;
        assert_eq!(d.decode_text(text).unwrap(), None);
        assert!(d.is_waiting());
        let p = d.decode_binary(&[1, 2, 3]).unwrap().unwrap();
        assert_eq!(p.attachments, vec![vec![1, 2, 3]]);
        assert_eq!(p.encode(), text);
        let data = p.data_with_binary().unwrap().unwrap();
        assert_eq!(
            data,
            Data::Array(vec![
                Data::String("file".into()),
                Data::Binary(vec![1, 2, 3])
            ])
        );
        let again = Packet::event_with_binary("file", vec![Data::Binary(vec![1, 2, 3])]);
        assert_eq!(again, p);
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(Packet::decode(""), Err(DecodeError::Empty));
        assert_eq!(Packet::decode("9"), Err(DecodeError::UnknownType('9')));
        assert_eq!(Packet::decode("5[]"), Err(DecodeError::BadAttachments));
        assert_eq!(Packet::decode("5x-[]"), Err(DecodeError::BadAttachments));
        assert_eq!(Packet::decode("5999-[]"), Err(DecodeError::BadAttachments));
        assert_eq!(
            Packet::decode("299999999999999999999999[]"),
            Err(DecodeError::BadAckId)
        );
        assert!(matches!(
            Packet::decode("2[\"a\""),
            Err(DecodeError::Json(_))
        ));
        assert_eq!(
            Packet::decode("2{}"),
            Err(DecodeError::WrongShape(PacketKind::Event))
        );
        // Fuzzing regression (socketio_packet): whitespace before a number in an error packet
        // decoded to data that re-encoded as an ack id.
        assert_eq!(
            Packet::decode("4\t62"),
            Err(DecodeError::WrongShape(PacketKind::Error))
        );
        assert_eq!(
            Packet::decode("462").map(|(p, _)| (p.id, p.data)),
            Ok((Some(62), None))
        );
        // Fuzzing regression (socketio_packet): a float serde_json's default (not correctly
        // rounded) parser reads one ulp off. It decodes, and re-encodes to the same number to
        // within that ulp; the fuzz crate compares exactly with `float_roundtrip`.
        let (p, _) = Packet::decode("2[99991e91]").unwrap();
        let (again, _) = Packet::decode(&p.encode()).unwrap();
        let x = |p: &Packet| p.args().first().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let (a, b) = (x(&p), x(&again));
        assert!((a - b).abs() <= a.abs() * 1e-15, "{a} vs {b}");
        let deep = format!("2{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(Packet::decode(&deep), Err(DecodeError::Json(_))));
        let mut d = Decoder::new();
        assert_eq!(d.decode_binary(&[1]), Err(DecodeError::UnexpectedBinary));
        assert_eq!(
            d.decode_text(r#"50-["a",{"_placeholder":true,"num":0}]"#),
            Err(DecodeError::BadPlaceholder { num: 0, count: 0 })
        );
        d.decode_text(r#"52-["a"]"#).unwrap();
        assert_eq!(
            d.decode_text("2[]"),
            Err(DecodeError::MissingAttachments(2))
        );
    }
}
