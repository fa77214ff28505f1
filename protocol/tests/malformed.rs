//! A corpus of malformed input: every case gives a typed error at the layer that is wrong, and
//! none panics — not in the decoders, and not in the client state machine fed the same frames.

use std::time::Duration;

use duet_protocol::client::{ClientConfig, ClientEvent, SocketClient};
use duet_protocol::engineio::{Frame, Packet as EioPacket};
use duet_protocol::payload;
use duet_protocol::signaling::{ClientMessage, ServerMessage};
use duet_protocol::socketio::{Decoder, Packet as SioPacket};
use duet_testkit::corpus::{self, Case, corpus};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_malformed_input_gives_the_expected_typed_error() {
    let corpus = corpus();
    assert!(corpus.len() >= 50, "corpus has only {} cases", corpus.len());
    for (i, case) in corpus.iter().enumerate() {
        match case {
            Case::EioText(t, ok) => {
                let e = EioPacket::decode_text(t).expect_err(&format!("case {i}: {t:?} decoded"));
                assert!(ok(&e), "case {i}: {t:?} gave {e:?}");
            }
            Case::EioBinary(b, ok) => {
                let e = EioPacket::decode_binary(b).expect_err(&format!("case {i}: {b:?} decoded"));
                assert!(ok(&e), "case {i}: {b:?} gave {e:?}");
            }
            Case::Sio(t, ok) => {
                let mut d = Decoder::new();
                let e = match d.decode_text(t) {
                    Err(e) => e,
                    // A binary header decodes; the lie shows when the attachment arrives.
                    Ok(None) => d
                        .decode_binary(&[1])
                        .expect_err(&format!("case {i}: attachment accepted")),
                    Ok(Some(p)) => panic!("case {i}: {t:?} decoded to {p:?}"),
                };
                assert!(ok(&e), "case {i}: {t:?} gave {e:?}");
            }
            Case::PayloadText(t, ok) => {
                let e = payload::decode_text(t).expect_err(&format!("case {i}: {t:?} decoded"));
                assert!(ok(&e), "case {i}: {t:?} gave {e:?}");
            }
            Case::PayloadBinary(b, ok) => {
                let e = payload::decode_binary(b).expect_err(&format!("case {i}: {b:?} decoded"));
                assert!(ok(&e), "case {i}: {b:?} gave {e:?}");
            }
            Case::ClientEvent(name, args, ok) => {
                let e = ClientMessage::from_event(name, args)
                    .expect_err(&format!("case {i}: {name} accepted"));
                assert!(ok(&e), "case {i}: {name} gave {e:?}");
            }
            Case::ServerEvent(name, args, ok) => {
                let e = ServerMessage::from_event(name, args)
                    .expect_err(&format!("case {i}: {name} accepted"));
                assert!(ok(&e), "case {i}: {name} gave {e:?}");
            }
        }
    }
}

/// A connected client, for feeding it garbage.
fn connected_client() -> SocketClient {
    let mut c = SocketClient::new(ClientConfig::default());
    let t = Duration::ZERO;
    c.connect(t);
    c.handle_open(t);
    c.handle_frame(
        &Frame::Text(
            r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#.into(),
        ),
        t,
    );
    c.handle_frame(&Frame::Text("40".into()), t);
    while c.poll_event().is_some() {}
    while c.poll_command().is_some() {}
    assert!(c.is_connected());
    c
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_client_survives_every_malformed_frame() {
    let mut client = connected_client();
    let frames = corpus::raw_frames();
    assert!(frames.len() >= 30);
    for frame in &frames {
        client.handle_frame(frame, Duration::from_millis(1));
        // Still connected; at most an error event; a later good frame still works.
        assert!(client.is_connected(), "disconnected by {frame:?}");
        while let Some(ev) = client.poll_event() {
            assert!(
                matches!(ev, ClientEvent::ProtocolError(_)),
                "{frame:?} gave {ev:?}"
            );
        }
        // A binary packet header may be waiting for attachments: clear it with a good packet.
        client.handle_frame(
            &Frame::Text(r#"42["ping_ok"]"#.into()),
            Duration::from_millis(1),
        );
        let mut saw = false;
        while let Some(ev) = client.poll_event() {
            saw |= matches!(ev, ClientEvent::Event { ref name, .. } if name == "ping_ok");
        }
        if !saw {
            // It was rejected as "attachments still expected"; the next one goes through.
            client.handle_frame(
                &Frame::Text(r#"42["ping_ok"]"#.into()),
                Duration::from_millis(1),
            );
            let ev = client.poll_event();
            assert!(
                matches!(ev, Some(ClientEvent::Event { ref name, .. }) if name == "ping_ok"),
                "after {frame:?}: {ev:?}"
            );
        }
    }
    assert!(SioPacket::decode("2[]").is_ok());
}
