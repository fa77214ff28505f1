//! Realistic signaling payloads: what a Chrome-to-Chrome call actually sends.

use duet_protocol::signaling::{IceCandidate, SdpType, SessionDescription};

/// An SDP offer shaped like Chrome's for one audio and one video track with the usual codecs,
/// RTX, RED/ULPFEC and header extensions (about 5 KB, as real offers are).
pub fn chrome_like_offer() -> SessionDescription {
    let mut s = String::from(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
         a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n",
    );
    s.push_str("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n");
    s.push_str(
        "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Xq3v\r\na=ice-pwd:9yJ0nXk2c8N3a1mQ4bVd7e+f\r\n",
    );
    s.push_str("a=ice-options:trickle\r\n");
    s.push_str("a=fingerprint:sha-256 ");
    s.push_str(
        &(0..32)
            .map(|i| format!("{:02X}", (i * 37) % 256))
            .collect::<Vec<_>>()
            .join(":"),
    );
    s.push_str("\r\na=setup:actpass\r\na=mid:0\r\n");
    for (i, ext) in [
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "urn:ietf:params:rtp-hdrext:sdes:mid",
    ]
    .iter()
    .enumerate()
    {
        s.push_str(&format!("a=extmap:{} {ext}\r\n", i + 1));
    }
    s.push_str("a=sendrecv\r\na=msid:stream audio-track\r\na=rtcp-mux\r\n");
    s.push_str("a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n");
    for (pt, codec) in [
        (63, "red/48000/2"),
        (9, "G722/8000"),
        (0, "PCMU/8000"),
        (8, "PCMA/8000"),
        (13, "CN/8000"),
        (110, "telephone-event/48000"),
        (126, "telephone-event/8000"),
    ] {
        s.push_str(&format!("a=rtpmap:{pt} {codec}\r\n"));
    }
    s.push_str("a=ssrc:1001 cname:4TOk42mSjXCkVIa6\r\na=ssrc:1001 msid:stream audio-track\r\n");
    let video_pts: Vec<u32> = (96..=127).collect();
    s.push_str(&format!(
        "m=video 9 UDP/TLS/RTP/SAVPF {}\r\nc=IN IP4 0.0.0.0\r\n",
        video_pts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    ));
    s.push_str("a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Xq3v\r\na=ice-pwd:9yJ0nXk2c8N3a1mQ4bVd7e+f\r\na=ice-options:trickle\r\n");
    s.push_str("a=setup:actpass\r\na=mid:1\r\n");
    for (i, ext) in [
        "urn:ietf:params:rtp-hdrext:toffset",
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "urn:3gpp:video-orientation",
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
        "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
        "http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
        "http://www.webrtc.org/experiments/rtp-hdrext/color-space",
        "urn:ietf:params:rtp-hdrext:sdes:mid",
    ]
    .iter()
    .enumerate()
    {
        s.push_str(&format!("a=extmap:{} {ext}\r\n", i + 14));
    }
    s.push_str("a=sendrecv\r\na=msid:stream video-track\r\na=rtcp-mux\r\na=rtcp-rsize\r\n");
    let codecs = [
        "VP8/90000",
        "VP9/90000",
        "H264/90000",
        "AV1/90000",
        "H265/90000",
    ];
    for pair in video_pts.chunks(2) {
        let (pt, rtx) = (pair[0], pair[1]);
        let codec = codecs[(pt as usize / 2) % codecs.len()];
        s.push_str(&format!("a=rtpmap:{pt} {codec}\r\n"));
        for fb in ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"] {
            s.push_str(&format!("a=rtcp-fb:{pt} {fb}\r\n"));
        }
        if codec.starts_with("H264") {
            s.push_str(&format!(
                "a=fmtp:{pt} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
            ));
        }
        s.push_str(&format!(
            "a=rtpmap:{rtx} rtx/90000\r\na=fmtp:{rtx} apt={pt}\r\n"
        ));
    }
    s.push_str("a=ssrc-group:FID 2001 2002\r\n");
    for ssrc in [2001, 2002] {
        s.push_str(&format!(
            "a=ssrc:{ssrc} cname:4TOk42mSjXCkVIa6\r\na=ssrc:{ssrc} msid:stream video-track\r\n"
        ));
    }
    SessionDescription {
        kind: SdpType::Offer,
        sdp: s,
    }
}

/// A host candidate as Chrome trickles it.
pub fn host_candidate(n: u32) -> IceCandidate {
    IceCandidate {
        candidate: format!(
            "candidate:{} 1 udp 2122260223 192.168.1.{} {} typ host generation 0 ufrag Xq3v network-id 1 network-cost 10",
            1_000_000 + n,
            n % 250 + 2,
            50_000 + n % 10_000
        ),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: Some("Xq3v".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_is_realistic_and_valid() {
        let offer = chrome_like_offer();
        assert!(
            (4_000..12_000).contains(&offer.sdp.len()),
            "{}",
            offer.sdp.len()
        );
        offer.validate().unwrap();
        host_candidate(7).validate().unwrap();
    }
}
