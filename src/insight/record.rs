//! The JS → Rust boundary of the stats: one [`Record`] per `getStats` entry Duet reads, holding
//! only the few fields it needs, copied by name. The browser driver fills records with
//! `Reflect::get` on each entry of the `RTCStatsReport`; the native tests fill them from the
//! recorded JSON of real reports. Both go through [`Record::read`], so the copy is one piece of
//! code over a list of names and the parsing above it is plain Rust.

/// The `type` of a stats entry, for the types Duet reads (every other type is skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// `candidate-pair`: a local and a remote candidate, and the pair's RTT and bytes.
    CandidatePair,
    /// `local-candidate`.
    LocalCandidate,
    /// `remote-candidate`.
    RemoteCandidate,
    /// `inbound-rtp`: a stream this side receives.
    InboundRtp,
    /// `outbound-rtp`: a stream this side sends.
    OutboundRtp,
    /// `remote-inbound-rtp`: what the other side reports (RTCP) about a stream it receives.
    RemoteInboundRtp,
    /// `transport`: Chromium names the selected pair here.
    Transport,
    /// `codec`: the MIME type an RTP entry's `codecId` points to.
    Codec,
}

impl EntryType {
    /// The entry type for a `type` string, `None` for the types Duet does not read.
    pub fn parse(ty: &str) -> Option<Self> {
        Some(match ty {
            "candidate-pair" => Self::CandidatePair,
            "local-candidate" => Self::LocalCandidate,
            "remote-candidate" => Self::RemoteCandidate,
            "inbound-rtp" => Self::InboundRtp,
            "outbound-rtp" => Self::OutboundRtp,
            "remote-inbound-rtp" => Self::RemoteInboundRtp,
            "transport" => Self::Transport,
            "codec" => Self::Codec,
            _ => return None,
        })
    }
}

/// The text fields copied from an entry ([`TEXT_FIELDS`] holds their names in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// `id`: what other entries refer to.
    Id,
    /// `kind`: `audio` or `video` (RTP entries).
    Kind,
    /// `state`: a candidate pair's ICE state (`succeeded`, …).
    State,
    /// `localCandidateId` (candidate pair).
    LocalCandidateId,
    /// `remoteCandidateId` (candidate pair).
    RemoteCandidateId,
    /// `selectedCandidatePairId` (transport, Chromium).
    SelectedCandidatePairId,
    /// `candidateType`: `host`, `srflx`, `prflx` or `relay`.
    CandidateType,
    /// `protocol`: `udp` or `tcp` (candidate).
    Protocol,
    /// `relayProtocol`: how a relay candidate reaches its TURN server (`udp`, `tcp`, `tls`).
    RelayProtocol,
    /// `codecId` (RTP entries).
    CodecId,
    /// `mimeType` (codec), e.g. `video/VP8`.
    MimeType,
}

/// The names of [`Text`] fields, indexed by the enum.
pub const TEXT_FIELDS: [&str; 11] = [
    "id",
    "kind",
    "state",
    "localCandidateId",
    "remoteCandidateId",
    "selectedCandidatePairId",
    "candidateType",
    "protocol",
    "relayProtocol",
    "codecId",
    "mimeType",
];

/// The numeric fields copied from an entry ([`NUM_FIELDS`] holds their names in this order).
/// Booleans arrive as 1 or 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Num {
    /// `timestamp`, in milliseconds (DOMHighResTimeStamp).
    Timestamp,
    /// `nominated` (candidate pair).
    Nominated,
    /// `selected` (candidate pair, Firefox).
    Selected,
    /// `currentRoundTripTime`, seconds (candidate pair).
    CurrentRoundTripTime,
    /// `roundTripTime`, seconds (remote-inbound-rtp).
    RoundTripTime,
    /// `bytesSent`.
    BytesSent,
    /// `bytesReceived`.
    BytesReceived,
    /// `packetsSent`.
    PacketsSent,
    /// `packetsReceived`.
    PacketsReceived,
    /// `packetsLost` (inbound-rtp: here; remote-inbound-rtp: at the other side).
    PacketsLost,
    /// `fractionLost`, 0..1 over the last RTCP interval (remote-inbound-rtp).
    FractionLost,
    /// `jitter`, seconds.
    Jitter,
    /// `frameWidth`.
    FrameWidth,
    /// `frameHeight`.
    FrameHeight,
    /// `framesPerSecond`.
    FramesPerSecond,
}

/// The names of [`Num`] fields, indexed by the enum.
pub const NUM_FIELDS: [&str; 15] = [
    "timestamp",
    "nominated",
    "selected",
    "currentRoundTripTime",
    "roundTripTime",
    "bytesSent",
    "bytesReceived",
    "packetsSent",
    "packetsReceived",
    "packetsLost",
    "fractionLost",
    "jitter",
    "frameWidth",
    "frameHeight",
    "framesPerSecond",
];

/// A field's value as the source holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number (or a boolean as 1 / 0).
    Num(f64),
    /// A string.
    Text(String),
    /// Not there, or of another type.
    Absent,
}

/// One stats entry reduced to the fields Duet reads. A field the browser did not report is
/// `None`: it is shown as "—", never as 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The entry's type.
    pub ty: EntryType,
    text: [Option<String>; TEXT_FIELDS.len()],
    num: [Option<f64>; NUM_FIELDS.len()],
}

impl Record {
    /// Copies one entry through `get` (field name → value); `None` when its `type` is one Duet
    /// does not read. Non-finite numbers count as absent.
    pub fn read(mut get: impl FnMut(&str) -> Value) -> Option<Self> {
        let Value::Text(ty) = get("type") else {
            return None;
        };
        let ty = EntryType::parse(&ty)?;
        let text = TEXT_FIELDS.map(|name| match get(name) {
            Value::Text(s) => Some(s),
            _ => None,
        });
        let num = NUM_FIELDS.map(|name| match get(name) {
            Value::Num(n) if n.is_finite() => Some(n),
            _ => None,
        });
        Some(Self { ty, text, num })
    }

    /// A text field, if reported.
    pub fn text(&self, field: Text) -> Option<&str> {
        self.text[field as usize].as_deref()
    }

    /// A numeric field, if reported.
    pub fn num(&self, field: Num) -> Option<f64> {
        self.num[field as usize]
    }

    /// Whether a boolean field is reported as true.
    pub fn flag(&self, field: Num) -> bool {
        self.num(field) == Some(1.0)
    }

    /// Whether this entry's `kind` is video.
    pub fn is_video(&self) -> bool {
        self.text(Text::Kind) == Some("video")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads a recorded report: a JSON array of the report's entries
    /// (`JSON.stringify([...report.values()])`).
    pub(crate) fn records_from_json(json: &str) -> Vec<Record> {
        let entries: Vec<serde_json::Value> = serde_json::from_str(json).expect("recorded JSON");
        entries
            .iter()
            .filter_map(|e| {
                Record::read(|name| match e.get(name) {
                    Some(serde_json::Value::String(s)) => Value::Text(s.clone()),
                    Some(serde_json::Value::Number(n)) => {
                        n.as_f64().map_or(Value::Absent, Value::Num)
                    }
                    Some(serde_json::Value::Bool(b)) => Value::Num(f64::from(u8::from(*b))),
                    _ => Value::Absent,
                })
            })
            .collect()
    }

    #[test]
    fn field_tables_match_the_enums() {
        assert_eq!(TEXT_FIELDS[Text::MimeType as usize], "mimeType");
        assert_eq!(TEXT_FIELDS[Text::Id as usize], "id");
        assert_eq!(NUM_FIELDS[Num::FramesPerSecond as usize], "framesPerSecond");
        assert_eq!(NUM_FIELDS[Num::Timestamp as usize], "timestamp");
    }

    #[test]
    fn unknown_types_and_bad_values_are_skipped() {
        let recs = records_from_json(
            r#"[{"type":"media-source","id":"x"},
                {"type":"inbound-rtp","id":"i","kind":"video","jitter":"fast","frameWidth":640,"codecId":7},
                {"id":"no-type"}]"#,
        );
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!(r.ty, EntryType::InboundRtp);
        assert_eq!(r.text(Text::Id), Some("i"));
        assert!(r.is_video());
        assert_eq!(
            r.num(Num::Jitter),
            None,
            "a string where a number belongs is absent"
        );
        assert_eq!(
            r.text(Text::CodecId),
            None,
            "a number where a string belongs is absent"
        );
        assert_eq!(r.num(Num::FrameWidth), Some(640.0));
        assert_eq!(r.num(Num::FrameHeight), None);
    }
}
