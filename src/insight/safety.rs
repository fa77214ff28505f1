//! The safety code: a short number both people read to each other to check that nobody sits
//! in the middle of their call.
//!
//! WebRTC encrypts media with DTLS-SRTP, and each side checks the other's DTLS certificate
//! against the fingerprint (`a=fingerprint`) in the description it received. Those descriptions
//! pass through the signaling server, so a server that swaps the fingerprints can terminate
//! DTLS on both sides and read everything. The code is a hash of both fingerprints as this
//! page's browser actually applied them (its local and its remote description), in a fixed
//! order: if nobody swapped anything, both pages hash the same two fingerprints and show the
//! same code; a swapped fingerprint puts a different one into one side's hash.
//!
//! The hash is SHA-256 (the browser's `crypto.subtle`, so the bundle carries no hash code);
//! this module builds its input and turns the digest into 12 digits (3 × 4, about 40 bits).
//! A meddler would have to make two codes match after seeing one side's fingerprint and before
//! the call times out, i.e. make ~2⁴⁰ certificates in seconds.

/// Why no code can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SafetyError {
    /// A description carries no `a=fingerprint` line.
    #[error("a description has no DTLS fingerprint")]
    NoFingerprint,
}

/// The `a=fingerprint` values of one description, normalised (algorithm lower case, hex upper
/// case, single spaces), sorted and without repeats (with BUNDLE every media section repeats
/// the same one), joined by `,`.
pub fn fingerprints(sdp: &str) -> Result<String, SafetyError> {
    // Kept sorted by inserting in place: `sort` on strings would add 4 KB to the wasm.
    let mut found: Vec<String> = Vec::new();
    for v in sdp
        .lines()
        .filter_map(|l| l.trim().strip_prefix("a=fingerprint:"))
    {
        let mut parts = v.split(' ').filter(|p| !p.is_empty());
        let mut s = parts.next().unwrap_or("").to_ascii_lowercase();
        for p in parts {
            s.push(' ');
            s.push_str(&p.to_ascii_uppercase());
        }
        if let Err(at) = found.binary_search(&s) {
            found.insert(at, s);
        }
    }
    if found.is_empty() {
        return Err(SafetyError::NoFingerprint);
    }
    let mut joined = String::new();
    for f in found {
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(&f);
    }
    Ok(joined)
}

/// What both sides hash: the two descriptions' fingerprints in sorted order, so the side that
/// offered and the side that answered build the same bytes.
pub fn code_input(local_sdp: &str, remote_sdp: &str) -> Result<String, SafetyError> {
    let local = fingerprints(local_sdp)?;
    let remote = fingerprints(remote_sdp)?;
    let (first, second) = if local <= remote {
        (local, remote)
    } else {
        (remote, local)
    };
    let mut input = String::from("duet safety code v1\n");
    input.push_str(&first);
    input.push('\n');
    input.push_str(&second);
    Ok(input)
}

/// The code for a digest: its first 8 bytes as a number, its last 12 decimal digits in three
/// groups of four (`0123 4567 8901`).
pub fn code_from_digest(digest: &[u8]) -> String {
    let mut first = [0u8; 8];
    for (d, s) in first.iter_mut().zip(digest) {
        *d = *s;
    }
    let mut n = u64::from_be_bytes(first) % 1_000_000_000_000;
    let mut digits = [b'0'; 14];
    for i in (0..14).rev() {
        if i == 4 || i == 9 {
            digits[i] = b' ';
            continue;
        }
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    digits.iter().map(|&d| char::from(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    const FP_A: &str = "sha-256 6B:8B:5D:EA:59:04:20:D0:B0:35:2E:B7:8A:41:4F:41:2F:1B:C6:9C:A3:0C:53:BC:2D:87:1A:E1:0B:7D:DE:5A";
    const FP_B: &str = "sha-256 1E:4C:9E:25:9A:0F:55:39:77:01:47:A8:33:7D:83:C4:19:1B:73:D6:34:F0:CA:57:A2:8C:01:8C:2E:9E:D6:03";

    fn sdp(fp: &str) -> String {
        // Two media sections repeating the fingerprint, as BUNDLE descriptions do.
        let mut s = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        for m in [
            "audio 9 UDP/TLS/RTP/SAVPF 111",
            "video 9 UDP/TLS/RTP/SAVPF 96",
        ] {
            s.push_str("m=");
            s.push_str(m);
            s.push_str("\r\na=fingerprint:");
            s.push_str(fp);
            s.push_str("\r\na=setup:actpass\r\n");
        }
        s
    }

    /// What a page shows, with a real SHA-256 in place of the browser's.
    fn code(local: &str, remote: &str) -> String {
        let input = code_input(local, remote).expect("fingerprints");
        code_from_digest(&Sha256::digest(input.as_bytes()))
    }

    #[test]
    fn both_sides_of_a_clean_session_show_the_same_code() {
        let (a, b) = (sdp(FP_A), sdp(FP_B));
        let at_a = code(&a, &b);
        let at_b = code(&b, &a);
        assert_eq!(at_a, at_b);
        assert_eq!(at_a.len(), 14);
        assert!(
            at_a.split(' ')
                .all(|g| g.len() == 4 && g.bytes().all(|c| c.is_ascii_digit()))
        );
    }

    #[test]
    fn case_spacing_and_repeats_do_not_change_the_code() {
        let messy = sdp(&FP_A.to_ascii_lowercase().replace("sha-256", "SHA-256  "));
        assert_eq!(code(&messy, &sdp(FP_B)), code(&sdp(FP_A), &sdp(FP_B)));
    }

    #[test]
    fn any_changed_fingerprint_changes_the_code() {
        let clean = code(&sdp(FP_A), &sdp(FP_B));
        // Swap each hex digit of A's fingerprint in turn, as a meddling relay would on the way
        // to B: B's code (its local B, its remote the forged A) never matches A's.
        let hex_at: Vec<usize> = FP_A
            .char_indices()
            .skip("sha-256 ".len())
            .filter(|(_, c)| c.is_ascii_hexdigit())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hex_at.len(), 64);
        for i in hex_at {
            let mut forged = FP_A.to_owned();
            let c = forged.as_bytes()[i];
            let swapped = if c == b'0' { "1" } else { "0" };
            forged.replace_range(i..=i, swapped);
            assert_ne!(code(&sdp(FP_B), &sdp(&forged)), clean, "digit {i}");
        }
        // Either side's, and the algorithm name too.
        assert_ne!(code(&sdp(FP_A), &sdp(&FP_B.replace("03", "04"))), clean);
        assert_ne!(
            code(&sdp(&FP_A.replace("sha-256", "sha-384")), &sdp(FP_B)),
            clean
        );
    }

    #[test]
    fn the_same_fingerprint_on_both_sides_is_not_the_clean_code() {
        // A meddler answering with A's own fingerprint does not get the code of A ↔ B.
        assert_ne!(code(&sdp(FP_A), &sdp(FP_A)), code(&sdp(FP_A), &sdp(FP_B)));
    }

    #[test]
    fn a_description_without_fingerprint_has_no_code() {
        assert_eq!(
            code_input("v=0\r\nm=audio 9 RTP/AVP 0\r\n", &sdp(FP_B)),
            Err(SafetyError::NoFingerprint)
        );
    }

    #[test]
    fn the_digits_come_from_the_digest() {
        assert_eq!(code_from_digest(&[0; 32]), "0000 0000 0000");
        assert_eq!(
            code_from_digest(&[0, 0, 0, 0, 0, 0, 0, 123]),
            "0000 0000 0123"
        );
        // 2^64 - 1 = 18446744073709551615 → its last 12 digits.
        assert_eq!(code_from_digest(&[0xff; 32]), "0737 0955 1615");
    }
}
