//! Room names: which characters the page accepts in one ([`allowed`]), and "New room", a name
//! nobody finds by guessing: 128 random bits from the browser's `crypto.getRandomValues`,
//! written in the URL-safe base64 alphabet without padding (22 characters of
//! `A–Z a–z 0–9 - _`, all allowed by the room rule and by `?room=` unescaped).

/// Which characters a room name may hold: duet-protocol's rule
/// ([`room_char`](duet_protocol::signaling::room_char)), for its `validate_room_with`. In the
/// page the browser tells letters and numbers apart with its own Unicode tables, asked through
/// [`ROOM_PATTERN`](duet_protocol::signaling::ROOM_PATTERN) (a code point alone matches it
/// exactly when the rule allows it; the browser tests check every one), so the bundle carries
/// no copy of Rust's (about 1.9 KB gzip). Natively (the machine's unit tests) it is `room_char`.
#[cfg(target_arch = "wasm32")]
pub fn allowed() -> impl Fn(char) -> bool {
    let mut pattern = String::from("^(?:");
    pattern.push_str(duet_protocol::signaling::ROOM_PATTERN);
    pattern.push_str(")$");
    let regex = js_sys::RegExp::new(&pattern, "u");
    move |c| regex.test(c.encode_utf8(&mut [0; 4]))
}

/// Which characters a room name may hold: duet-protocol's rule, as the page asks its browser
/// (see the wasm32 version).
#[cfg(not(target_arch = "wasm32"))]
pub fn allowed() -> impl Fn(char) -> bool {
    duet_protocol::signaling::room_char
}

/// Random bytes in a name: 128 bits, above the 96 issue 14 asks for.
pub const RANDOM_BYTES: usize = 16;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The room name for these random bytes (pure, so it is tested natively).
pub fn from_bytes(bytes: &[u8; RANDOM_BYTES]) -> String {
    let mut out = String::with_capacity((RANDOM_BYTES * 8).div_ceil(6));
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(char::from(ALPHABET[((acc >> bits) & 63) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (6 - bits)) & 63) as usize]));
    }
    out
}

/// A fresh room name from the browser's cryptographic random source; `None` where the page has
/// no `crypto` (the page then offers no name rather than a guessable one).
pub fn generate() -> Option<String> {
    let mut bytes = [0u8; RANDOM_BYTES];
    web_sys::window()?
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut bytes)
        .ok()?;
    Some(from_bytes(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use duet_protocol::signaling::validate_room;

    #[test]
    fn names_are_url_safe_valid_rooms_carrying_every_bit() {
        assert_eq!(from_bytes(&[0; RANDOM_BYTES]), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(from_bytes(&[0xff; RANDOM_BYTES]), "_____________________w");
        let mut bytes = [0u8; RANDOM_BYTES];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        let name = from_bytes(&bytes);
        assert_eq!(name.len(), 22, "128 bits in 6-bit characters");
        assert!(validate_room(&name).is_ok(), "{name}");
        assert!(
            name.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{name}"
        );
        // Every bit counts: flipping any one changes the name.
        for i in 0..RANDOM_BYTES * 8 {
            let mut flipped = bytes;
            flipped[i / 8] ^= 1 << (i % 8);
            assert_ne!(from_bytes(&flipped), name, "bit {i} lost");
        }
    }
}
