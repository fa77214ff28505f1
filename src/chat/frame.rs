//! The chat channel's frames: small text, not JSON. A version digit ([`VERSION`]), a kind
//! letter and the body. A frame of another version is dropped with a notice, so an older page
//! never misreads a newer one.

/// The frame version this page speaks: the first character of every text frame.
pub const VERSION: char = '1';

/// Why a text frame from the other page was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Empty, or a kind this page does not know.
    #[error("it was not a Duet message")]
    Malformed,
    /// Another version of the framing (a newer Duet).
    #[error("it came from another version of Duet; reload both pages")]
    Version,
}

/// Splits a text frame into its kind letter and the rest, checking the version.
pub(crate) fn split_frame(frame: &str) -> Result<(char, &str), FrameError> {
    let mut chars = frame.chars();
    match (chars.next(), chars.next()) {
        (Some(VERSION), Some(kind)) => Ok((kind, chars.as_str())),
        (Some(v), Some(_)) if v.is_ascii_digit() => Err(FrameError::Version),
        _ => Err(FrameError::Malformed),
    }
}

/// A text frame: the version, the kind letter and the body.
pub(crate) fn frame(kind: char, body: &str) -> String {
    let mut s = String::with_capacity(2 + body.len());
    s.push(VERSION);
    s.push(kind);
    s.push_str(body);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_version_and_kind() {
        assert_eq!(frame('m', "hi"), "1mhi");
        assert_eq!(split_frame("1mhi"), Ok(('m', "hi")));
        assert_eq!(split_frame("1h"), Ok(('h', "")));
        assert_eq!(split_frame("2mhi"), Err(FrameError::Version));
        assert_eq!(split_frame("1"), Err(FrameError::Malformed));
        assert_eq!(split_frame(""), Err(FrameError::Malformed));
        assert_eq!(split_frame("{\"x\":1}"), Err(FrameError::Malformed));
        // A multi-byte kind is read as a character, never split inside it.
        assert_eq!(split_frame("1é"), Ok(('é', "")));
    }
}
