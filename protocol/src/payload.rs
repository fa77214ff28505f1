//! Engine.IO v3 polling payloads: several packets in one HTTP body.
//!
//! Two forms exist (engine.io-parser 2.x):
//! - text: `<length>:<packet>` repeated, where the length counts UTF-16 code units (JavaScript's
//!   `String.length`), binary packets written as `b<digit><base64>`; an empty payload is `0:`.
//! - binary (for clients that support XHR2): per packet a marker byte (`0` string, `1` binary),
//!   the decimal length as one byte per digit (each 0–9), `0xFF`, then the packet: the UTF-8 text
//!   of a string packet (length in bytes), or the type byte and data of a binary one.
//!
//! Duet's own client speaks WebSocket only; these complete the codec so it can read and write
//! everything socket.io 2.3.0 puts on the wire (the recorded fixtures include polling sessions).

use crate::engineio::{self, Packet, PacketData};

/// The longest length prefix accepted, in digits. engine.io-parser allows 310 (the digits of
/// `Number.MAX_VALUE`); no payload a server accepts comes near 10^15 bytes.
const MAX_LENGTH_DIGITS: usize = 15;

/// Why a polling payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is empty (a valid empty payload is `0:`).
    #[error("empty polling payload")]
    Empty,
    /// A length prefix is missing, not a number, or too long.
    #[error("invalid length prefix at byte {at}")]
    BadLength {
        /// Where the prefix starts.
        at: usize,
    },
    /// A length prefix promises more than the payload holds, or splits a character.
    #[error("length prefix {claimed} at byte {at} does not match the data")]
    LengthMismatch {
        /// Where the prefix starts.
        at: usize,
        /// What it claimed.
        claimed: u64,
    },
    /// A binary payload's marker byte is neither 0 nor 1.
    #[error("invalid marker byte 0x{marker:02x} at byte {at} of a binary payload")]
    BadMarker {
        /// Where the marker is.
        at: usize,
        /// The byte found.
        marker: u8,
    },
    /// One packet inside the payload is invalid.
    #[error("packet {index} of the payload: {source}")]
    Packet {
        /// Its position in the payload.
        index: usize,
        /// What is wrong with it.
        source: engineio::DecodeError,
    },
}

/// Decodes a text polling payload.
pub fn decode_text(body: &str) -> Result<Vec<Packet>, PayloadError> {
    if body.is_empty() {
        return Err(PayloadError::Empty);
    }
    let mut packets = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let at = body.len() - rest.len();
        let colon = rest
            .find(':')
            .filter(|&i| i > 0 && i <= MAX_LENGTH_DIGITS)
            .ok_or(PayloadError::BadLength { at })?;
        let digits = &rest[..colon];
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PayloadError::BadLength { at });
        }
        let claimed: u64 = digits.parse().map_err(|_| PayloadError::BadLength { at })?;
        let data = &rest[colon + 1..];
        let end =
            utf16_prefix_len(data, claimed).ok_or(PayloadError::LengthMismatch { at, claimed })?;
        let packet = &data[..end];
        if !packet.is_empty() {
            let index = packets.len();
            packets.push(
                Packet::decode_text(packet)
                    .map_err(|source| PayloadError::Packet { index, source })?,
            );
        }
        rest = &data[end..];
    }
    Ok(packets)
}

/// The byte length of the first `units` UTF-16 code units of `s`, if `s` has that many and the
/// boundary does not split a surrogate pair.
fn utf16_prefix_len(s: &str, units: u64) -> Option<usize> {
    let mut counted = 0u64;
    for (i, c) in s.char_indices() {
        if counted == units {
            return Some(i);
        }
        counted += c.len_utf16() as u64;
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(s.len())
}

/// Encodes packets as a text polling payload.
pub fn encode_text(packets: &[Packet]) -> String {
    if packets.is_empty() {
        return "0:".to_owned();
    }
    let mut out = String::new();
    for p in packets {
        let text = p.encode_text();
        let units: usize = text.chars().map(char::len_utf16).sum();
        out.push_str(&units.to_string());
        out.push(':');
        out.push_str(&text);
    }
    out
}

/// Decodes a binary polling payload.
pub fn decode_binary(body: &[u8]) -> Result<Vec<Packet>, PayloadError> {
    if body.is_empty() {
        return Err(PayloadError::Empty);
    }
    let mut packets = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let marker = body[at];
        if marker > 1 {
            return Err(PayloadError::BadMarker { at, marker });
        }
        let digits_start = at + 1;
        let end_of_digits = body[digits_start..]
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or(PayloadError::BadLength { at })?;
        let digits = &body[digits_start..digits_start + end_of_digits];
        if digits.is_empty() || digits.len() > MAX_LENGTH_DIGITS || digits.iter().any(|&d| d > 9) {
            return Err(PayloadError::BadLength { at });
        }
        let claimed = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d));
        let start = digits_start + end_of_digits + 1;
        let len =
            usize::try_from(claimed).map_err(|_| PayloadError::LengthMismatch { at, claimed })?;
        let packet = body
            .get(start..start.saturating_add(len))
            .filter(|_| start.checked_add(len).is_some())
            .ok_or(PayloadError::LengthMismatch { at, claimed })?;
        let index = packets.len();
        let decoded = if marker == 0 {
            let text = std::str::from_utf8(packet).map_err(|_| PayloadError::Packet {
                index,
                source: engineio::DecodeError::Utf8,
            })?;
            Packet::decode_text(text)
        } else {
            Packet::decode_binary(packet)
        };
        packets.push(decoded.map_err(|source| PayloadError::Packet { index, source })?);
        at = start + len;
    }
    Ok(packets)
}

/// Encodes packets as a binary polling payload.
pub fn encode_binary(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        let (marker, bytes) = match (&p.data, p.encode_frame()) {
            (PacketData::Binary(_), engineio::Frame::Binary(b)) => (1u8, b),
            (_, engineio::Frame::Text(t)) => (0u8, t.into_bytes()),
            (_, engineio::Frame::Binary(b)) => (1u8, b),
        };
        out.push(marker);
        out.extend(bytes.len().to_string().bytes().map(|d| d - b'0'));
        out.push(0xFF);
        out.extend_from_slice(&bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engineio::PacketType;

    #[test]
    fn text_payload_counts_utf16_units() {
        // "é" is one UTF-16 unit (two UTF-8 bytes); "😀" is two units (four bytes).
        let packets = vec![
            Packet::message("é"),
            Packet::message("😀"),
            Packet::new(PacketType::Ping),
        ];
        let body = encode_text(&packets);
        assert_eq!(body, "2:4é3:4😀1:2");
        assert_eq!(decode_text(&body).unwrap(), packets);
    }

    #[test]
    fn empty_text_payload() {
        assert_eq!(encode_text(&[]), "0:");
        assert_eq!(decode_text("0:").unwrap(), vec![]);
    }

    #[test]
    fn text_payload_errors() {
        assert_eq!(decode_text(""), Err(PayloadError::Empty));
        assert!(matches!(
            decode_text("x:4a"),
            Err(PayloadError::BadLength { .. })
        ));
        assert!(matches!(
            decode_text("5:4a"),
            Err(PayloadError::LengthMismatch { .. })
        ));
        // A length that ends inside a surrogate pair.
        assert!(matches!(
            decode_text("2:4😀"),
            Err(PayloadError::LengthMismatch { .. })
        ));
        assert!(matches!(
            decode_text("2:4a1"),
            Err(PayloadError::BadLength { .. })
        ));
        assert!(matches!(
            decode_text("1:9"),
            Err(PayloadError::Packet { index: 0, .. })
        ));
        assert!(matches!(
            decode_text("99999999999999999999:4"),
            Err(PayloadError::BadLength { .. })
        ));
    }

    #[test]
    fn binary_payload_round_trips() {
        let packets = vec![
            Packet::message("é"),
            Packet::binary_message(vec![1, 2, 255]),
        ];
        let body = encode_binary(&packets);
        assert_eq!(
            body,
            vec![0, 3, 0xFF, b'4', 0xC3, 0xA9, 1, 4, 0xFF, 4, 1, 2, 255]
        );
        assert_eq!(decode_binary(&body).unwrap(), packets);
    }

    #[test]
    fn binary_payload_errors() {
        assert_eq!(decode_binary(&[]), Err(PayloadError::Empty));
        assert!(matches!(
            decode_binary(&[2, 1, 0xFF, b'4']),
            Err(PayloadError::BadMarker { .. })
        ));
        assert!(matches!(
            decode_binary(&[0, 1]),
            Err(PayloadError::BadLength { .. })
        ));
        assert!(matches!(
            decode_binary(&[0, 12, 0xFF, b'4']),
            Err(PayloadError::BadLength { .. })
        ));
        assert!(matches!(
            decode_binary(&[0, 9, 0xFF, b'4']),
            Err(PayloadError::LengthMismatch { .. })
        ));
        assert!(matches!(
            decode_binary(&[0, 2, 0xFF, b'4', 0xC3]),
            Err(PayloadError::Packet { .. })
        ));
        let huge = [0u8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0xFF];
        assert!(matches!(
            decode_binary(&huge),
            Err(PayloadError::BadLength { .. })
        ));
    }
}
