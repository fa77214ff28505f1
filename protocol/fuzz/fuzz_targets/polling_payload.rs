//! Polling payloads, both forms: decode never panics; decoded payloads re-encode and decode equal.
#![no_main]
use duet_protocol::payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ps) = payload::decode_binary(data) {
        assert_eq!(
            payload::decode_binary(&payload::encode_binary(&ps)).unwrap(),
            ps
        );
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(ps) = payload::decode_text(s) {
            assert_eq!(
                payload::decode_text(&payload::encode_text(&ps)).unwrap(),
                ps
            );
        }
    }
});
