//! Engine.IO WebSocket frames, text and binary: decode never panics; what decodes re-encodes to
//! something that decodes the same.
#![no_main]
use duet_protocol::engineio::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Packet::decode_binary(data) {
        assert_eq!(Packet::decode_frame(&p.encode_frame()).unwrap(), p);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(p) = Packet::decode_text(s) {
            assert_eq!(Packet::decode_frame(&p.encode_frame()).unwrap(), p);
        }
    }
});
