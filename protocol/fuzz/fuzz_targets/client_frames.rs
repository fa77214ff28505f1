//! The client state machine fed arbitrary frames and clock ticks after a real handshake: it never
//! panics, whatever the server sends.
#![no_main]
use std::time::Duration;

use duet_protocol::Frame;
use duet_protocol::client::{ClientConfig, SocketClient};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut c = SocketClient::new(ClientConfig::default());
    let mut now = Duration::ZERO;
    c.connect(now);
    c.handle_frame(
        &Frame::Text(r#"0{"sid":"s","upgrades":[],"pingInterval":1000,"pingTimeout":500}"#.into()),
        now,
    );
    for chunk in data.split(|&b| b == 0) {
        now += Duration::from_millis(u64::from(chunk.first().copied().unwrap_or(0)) * 10);
        let frame = match std::str::from_utf8(chunk) {
            Ok(s) => Frame::Text(s.to_owned()),
            Err(_) => Frame::Binary(chunk.to_vec()),
        };
        c.handle_frame(&frame, now);
        c.handle_timeout(now);
        while c.poll_command().is_some() {}
        while c.poll_event().is_some() {}
        if chunk.len() == 1 {
            c.connect(now);
        }
    }
});
