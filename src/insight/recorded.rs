//! Tests over `getStats` reports and descriptions recorded from real calls
//! (tests/fixtures/getstats: `firefox/` by record.py, `chromium/` by the e2e harness's
//! `record_chromium_getstats`): each side's two readings one second apart, and the
//! descriptions each side applied.

use sha2::{Digest, Sha256};

use super::record::tests::records_from_json;
use super::safety::{code_from_digest, code_input};
use super::sample::{CandidateType, Sample, Transport};
use super::stats::Stats;

struct Recording {
    readings: [&'static str; 2],
}

macro_rules! recording {
    ($browser:literal, $side:literal) => {
        Recording {
            readings: [
                include_str!(concat!(
                    "../../tests/fixtures/getstats/",
                    $browser,
                    "/",
                    $side,
                    "-1.json"
                )),
                include_str!(concat!(
                    "../../tests/fixtures/getstats/",
                    $browser,
                    "/",
                    $side,
                    "-2.json"
                )),
            ],
        }
    };
}

impl Recording {
    fn stats(&self) -> (Sample, Stats) {
        let first = Sample::parse(&records_from_json(self.readings[0]));
        let second = Sample::parse(&records_from_json(self.readings[1]));
        let stats = Stats::between(Some(&first), &second);
        (second, stats)
    }
}

/// What every recorded loopback call shows: a direct host ↔ host route over UDP, no loss,
/// 640×480 both ways, opus and VP8, bitrates in a band around what was measured.
fn check_loopback_call(name: &str, rec: &Recording, kbps: (f64, f64)) {
    let (sample, stats) = rec.stats();
    let route = stats
        .route
        .unwrap_or_else(|| panic!("{name}: no selected pair"));
    assert_eq!(route.local, Some(CandidateType::Host), "{name}");
    assert_eq!(route.remote, Some(CandidateType::Host), "{name}");
    assert_eq!(route.transport, Some(Transport::Udp), "{name}");
    assert_eq!(route.relay, None, "{name}");
    assert_eq!(stats.loss_in_pct, Some(0.0), "{name}");
    assert_eq!(stats.loss_out_pct, Some(0.0), "{name}");
    let rtt = stats.rtt_ms.unwrap_or_else(|| panic!("{name}: no RTT"));
    assert!((0.0..50.0).contains(&rtt), "{name}: rtt {rtt}");
    let jitter = stats
        .jitter_ms
        .unwrap_or_else(|| panic!("{name}: no jitter"));
    assert!((0.0..50.0).contains(&jitter), "{name}: jitter {jitter}");
    for (dir, p) in [("in", stats.video_in), ("out", stats.video_out)] {
        assert_eq!(
            (p.width, p.height),
            (Some(640.0), Some(480.0)),
            "{name} {dir}"
        );
        let fps = p.fps.unwrap_or_else(|| panic!("{name} {dir}: no fps"));
        assert!((5.0..=31.0).contains(&fps), "{name} {dir}: fps {fps}");
    }
    assert_eq!(stats.audio_codec.as_deref(), Some("opus"), "{name}");
    assert_eq!(stats.video_codec.as_deref(), Some("VP8"), "{name}");
    let (kin, kout) = (stats.kbps_in.unwrap(), stats.kbps_out.unwrap());
    assert!(
        (kin - kbps.0).abs() < 1.0,
        "{name}: in {kin} kbit/s, expected {}",
        kbps.0
    );
    assert!(
        (kout - kbps.1).abs() < 1.0,
        "{name}: out {kout} kbit/s, expected {}",
        kbps.1
    );
    // Counters only grow.
    assert!(sample.inbound.bytes.unwrap() > 0.0 && sample.outbound.packets.unwrap() > 0.0);
    // Without a previous reading there are no rates, and loss is the whole call's.
    let alone = Stats::between(None, &sample);
    assert_eq!((alone.kbps_in, alone.kbps_out), (None, None), "{name}");
    assert_eq!(alone.loss_in_pct, Some(0.0), "{name}");
    // A previous reading taken before anything arrived: loss over the whole call, no rate in.
    let mut before = sample.clone();
    before.inbound = Default::default();
    let early = Stats::between(Some(&before), &sample);
    assert_eq!(
        (early.loss_in_pct, early.kbps_in),
        (Some(0.0), None),
        "{name}"
    );
}

#[test]
fn firefox_loopback_call() {
    // Expected rates: byte deltas of the RTP entries over the timestamps' difference, worked
    // out by hand from the JSON (python over the files).
    check_loopback_call(
        "firefox offerer",
        &recording!("firefox", "offerer"),
        (330.63, 349.48),
    );
    check_loopback_call(
        "firefox answerer",
        &recording!("firefox", "answerer"),
        (350.52, 331.62),
    );
}

#[test]
fn chromium_loopback_call() {
    check_loopback_call(
        "chromium offerer",
        &recording!("chromium", "offerer"),
        (518.20, 518.67),
    );
    check_loopback_call(
        "chromium answerer",
        &recording!("chromium", "answerer"),
        (519.11, 519.22),
    );
}

#[test]
fn panel_rows_read_like_the_recording() {
    let (_, stats) = recording!("firefox", "offerer").stats();
    let rows = stats.rows();
    let get = |label| rows.iter().find(|(l, _)| *l == label).unwrap().1.as_str();
    assert_eq!(get("Route"), "host / host, udp");
    assert_eq!(get("Loss in / out"), "0.0 / 0.0 %");
    assert_eq!(get("Bitrate in / out"), "331 / 349 kbit/s");
    assert_eq!(get("Video in"), "640×480, 30 fps");
    assert_eq!(get("Codecs"), "opus / VP8");
    assert_eq!(get("Jitter"), "5.0 ms");
    assert_eq!(
        Stats::default().rows()[1].1,
        "—",
        "unreported reads as a dash, not 0"
    );
    assert_eq!(Stats::default().rows()[4].1, "— / —");
}

/// Both sides' applied descriptions of one recorded call.
fn descriptions(json: &str) -> [(String, String); 2] {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    ["offerer", "answerer"].map(|side| {
        let d = &v[side];
        (
            d["local"].as_str().unwrap().to_owned(),
            d["remote"].as_str().unwrap().to_owned(),
        )
    })
}

fn code(local: &str, remote: &str) -> String {
    code_from_digest(&Sha256::digest(
        code_input(local, remote).unwrap().as_bytes(),
    ))
}

#[test]
fn recorded_sessions_show_one_code_on_both_sides() {
    check_codes(include_str!(
        "../../tests/fixtures/getstats/firefox/descriptions.json"
    ));
    check_codes(include_str!(
        "../../tests/fixtures/getstats/chromium/descriptions.json"
    ));
}

fn check_codes(json: &str) {
    let [(ol, or), (al, ar)] = descriptions(json);
    assert_eq!(code(&ol, &or), code(&al, &ar));
    // The answerer's view of a tampered offer: one hex digit of the offer's fingerprint changed.
    let at = ar.find("a=fingerprint:sha-256 ").unwrap() + "a=fingerprint:sha-256 ".len();
    let mut forged = ar.clone();
    let c = if &forged[at..=at] == "0" { "1" } else { "0" };
    forged.replace_range(at..=at, c);
    assert_ne!(code(&al, &forged), code(&ol, &or));
}
