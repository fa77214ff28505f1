//! The file channel's text frames (binary frames are the bytes of the file being received):
//!
//! | frame | from | meaning |
//! | --- | --- | --- |
//! | `1o` id `\n` size `\n` type `\n` name | sender | a file follows: its bytes come next, in order |
//! | `1d` id | sender | every byte of `id` is sent |
//! | `1c` id | sender | the sender stopped `id` |
//! | `1k` id | receiver | every byte of `id` arrived: done |
//! | `1r` id `\n` reason | receiver | the receiver stopped `id`: `c` cancelled, `l` too large, `m` malformed |
//!
//! The channel is ordered and reliable, so bytes need no header: those after an offer belong to
//! it until its `1d` or `1c`.

use super::units::decimal;
use crate::chat::frame::{FrameError, frame, split_frame};

/// The largest file offered or accepted: the receiver holds it in memory until it is complete.
pub const MAX_FILE_BYTES: u64 = 2 << 30;
/// The longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// The longest media type kept.
pub const MAX_TYPE_LEN: usize = 127;
/// The type of a file whose type is unknown or not a plain `type/subtype`.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// Why the receiver stopped a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The person pressed Cancel.
    Cancelled,
    /// Over [`MAX_FILE_BYTES`].
    TooLarge,
    /// The sender broke the rules (more bytes than offered, a done with bytes missing).
    Malformed,
}

/// One text frame on the file channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// A file follows.
    Offer {
        /// The sender's id for it.
        id: u32,
        /// Its size in bytes.
        size: u64,
        /// Its media type (as the sender's browser saw it; may be empty).
        mime: String,
        /// Its name.
        name: String,
    },
    /// Every byte is sent.
    Done(u32),
    /// The sender stopped.
    Cancel(u32),
    /// The receiver has every byte.
    Received(u32),
    /// The receiver stopped.
    Refuse(u32, Refusal),
}

impl Control {
    /// The frame's text.
    pub fn encode(&self) -> String {
        match self {
            Self::Offer {
                id,
                size,
                mime,
                name,
            } => {
                let body =
                    decimal(u64::from(*id)) + "\n" + &decimal(*size) + "\n" + mime + "\n" + name;
                frame('o', &body)
            }
            Self::Done(id) => frame('d', &decimal(u64::from(*id))),
            Self::Cancel(id) => frame('c', &decimal(u64::from(*id))),
            Self::Received(id) => frame('k', &decimal(u64::from(*id))),
            Self::Refuse(id, why) => {
                let reason = match why {
                    Refusal::Cancelled => "\nc",
                    Refusal::TooLarge => "\nl",
                    Refusal::Malformed => "\nm",
                };
                frame('r', &(decimal(u64::from(*id)) + reason))
            }
        }
    }

    /// Reads a frame. Names and types are cleaned ([`clean_name`], [`clean_type`]); numbers must
    /// be plain decimals.
    pub fn decode(text: &str) -> Result<Self, FrameError> {
        let (kind, body) = split_frame(text)?;
        let id = |s: &str| number(s).and_then(|n| u32::try_from(n).ok());
        let bad = FrameError::Malformed;
        Ok(match kind {
            'o' => {
                let mut fields = body.splitn(4, '\n');
                let mut next = || fields.next().ok_or(bad);
                let id = id(next()?).ok_or(bad)?;
                let size = number(next()?).ok_or(bad)?;
                let mime = clean_type(next()?);
                let name = clean_name(next()?);
                Self::Offer {
                    id,
                    size,
                    mime,
                    name,
                }
            }
            'd' => Self::Done(id(body).ok_or(bad)?),
            'c' => Self::Cancel(id(body).ok_or(bad)?),
            'k' => Self::Received(id(body).ok_or(bad)?),
            'r' => {
                let (n, reason) = body.split_once('\n').ok_or(bad)?;
                let why = match reason {
                    "c" => Refusal::Cancelled,
                    "l" => Refusal::TooLarge,
                    "m" => Refusal::Malformed,
                    _ => return Err(bad),
                };
                Self::Refuse(id(n).ok_or(bad)?, why)
            }
            _ => return Err(bad),
        })
    }
}

/// A plain decimal (digits only, at most 20 of them, no sign or spaces).
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A file name safe to offer as a download name: the last path component, without control
/// characters, trimmed, at most [`MAX_NAME_CHARS`]; `file` if nothing is left.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let kept = kept.trim();
    if kept.is_empty() || kept == "." || kept == ".." {
        "file".to_owned()
    } else {
        kept.to_owned()
    }
}

/// A media type as `type/subtype` of token characters (lowercased), else [`OCTET_STREAM`].
pub fn clean_type(mime: &str) -> String {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match mime.split_once('/') {
        Some((t, s)) if mime.len() <= MAX_TYPE_LEN && token(t) && token(s) => {
            mime.to_ascii_lowercase()
        }
        _ => OCTET_STREAM.to_owned(),
    }
}

/// The type the received Blob gets. A `blob:` URL opened in a tab (a middle click ignores the
/// link's `download`) runs in this page's origin, so types a browser would run script in are
/// stored as [`OCTET_STREAM`]; the list still shows the original type, and the name keeps its
/// extension.
pub fn blob_type(mime: &str) -> &str {
    let active = mime.starts_with("text/html")
        || mime.contains("xml")
        || mime.contains("javascript")
        || mime.contains("ecmascript");
    if active { OCTET_STREAM } else { mime }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_round_trips() {
        let frames = [
            Control::Offer {
                id: 7,
                size: 5 * 1024 * 1024,
                mime: "image/png".into(),
                name: "holiday photo\n2.png".into(),
            },
            Control::Done(u32::MAX),
            Control::Cancel(0),
            Control::Received(3),
            Control::Refuse(4, Refusal::Cancelled),
            Control::Refuse(5, Refusal::TooLarge),
            Control::Refuse(6, Refusal::Malformed),
        ];
        for f in frames {
            let text = f.encode();
            let back = Control::decode(&text).unwrap();
            if let Control::Offer { name, .. } = &back {
                // A line break in a name is a control character: dropped, the rest kept.
                assert_eq!(name, "holiday photo2.png");
            } else {
                assert_eq!(back, f, "{text}");
            }
        }
        assert_eq!(
            Control::Offer {
                id: 1,
                size: 12,
                mime: "text/plain".into(),
                name: "a.txt".into()
            }
            .encode(),
            "1o1\n12\ntext/plain\na.txt"
        );
    }

    #[test]
    fn malformed_frames_are_errors() {
        for text in [
            "",
            "1",
            "1o",
            "1o1\n2",
            "1o-1\n2\nx/y\nn",
            "1o1\n+2\nx/y\nn",
            "1o1\n99999999999999999999999\nx/y\nn",
            "1o4294967296\n1\nx/y\nn",
            "1d",
            "1dx",
            "1d 1",
            "1r1",
            "1r1\nz",
            "1q1",
        ] {
            assert_eq!(
                Control::decode(text),
                Err(FrameError::Malformed),
                "{text:?}"
            );
        }
        assert_eq!(Control::decode("2d1"), Err(FrameError::Version));
    }

    #[test]
    fn names_and_types_are_cleaned() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("  \u{0}\u{7} "), "file");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(&"é".repeat(300)).chars().count(), MAX_NAME_CHARS);
        assert_eq!(clean_type("Image/PNG"), "image/png");
        assert_eq!(clean_type(""), OCTET_STREAM);
        assert_eq!(clean_type("text/plain; charset=utf-8"), OCTET_STREAM);
        assert_eq!(clean_type("nonsense"), OCTET_STREAM);
        assert_eq!(blob_type("image/png"), "image/png");
        assert_eq!(blob_type("text/html"), OCTET_STREAM);
        assert_eq!(blob_type("image/svg+xml"), OCTET_STREAM);
        assert_eq!(blob_type("application/javascript"), OCTET_STREAM);
    }
}
