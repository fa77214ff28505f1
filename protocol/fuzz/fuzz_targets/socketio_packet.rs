//! Socket.IO packets with attachments: the first line is the text packet, every further line an
//! attachment. Decode never panics; complete packets re-encode to text that decodes equal.
#![no_main]
use duet_protocol::socketio::{Decoder, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == b'\n');
    let Some(Ok(text)) = parts.next().map(std::str::from_utf8) else {
        return;
    };
    let mut d = Decoder::new();
    let mut out = d.decode_text(text);
    for part in parts {
        if let Ok(None) = out {
            out = d.decode_binary(part);
        }
    }
    if let Ok(Some(p)) = out {
        let (again, _) = Packet::decode(&p.encode()).unwrap();
        assert_eq!(again.data, p.data);
        let _ = p.data_with_binary();
    }
});
