//! Reading a connection for the call machine's insight actions: `getStats` reduced to a [`Sample`]
//! (through [`Record`]s, the fields Duet reads), and the safety code from the descriptions the
//! browser applied, hashed with `crypto.subtle`. Only copying and awaiting here; parsing, the
//! code's rule and every decision are plain Rust in [`crate::insight`].

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::insight::record::{Record, Value};
use crate::insight::safety::{code_from_digest, code_input};
use crate::insight::sample::Sample;
use web_sys::RtcPeerConnection;

fn value(entry: &JsValue, name: &str) -> Value {
    let v = Reflect::get(entry, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if let Some(s) = v.as_string() {
        Value::Text(s)
    } else if let Some(n) = v.as_f64() {
        Value::Num(n)
    } else if let Some(b) = v.as_bool() {
        Value::Num(f64::from(u8::from(b)))
    } else {
        Value::Absent
    }
}

/// One reading of the connection's stats; `None` when the browser refused.
pub async fn read(pc: &RtcPeerConnection) -> Option<Sample> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    let mut records = Vec::new();
    // RTCStatsReport is maplike: its forEach gives (value, key) like a Map's.
    report
        .unchecked_ref::<js_sys::Map>()
        .for_each(&mut |entry, _key| {
            if let Some(r) = Record::read(|name| value(&entry, name)) {
                records.push(r);
            }
        });
    Some(Sample::parse(&records))
}

/// RTP packets received so far on all inbound streams. Media that still arrives after the
/// server said the other person left means only their signaling dropped, not the call.
/// Read on its own, not through [`read`]: this runs before the first frame, [`read`] and the
/// parsing behind it load after it (`crate::extras`).
pub async fn packets_received(pc: &RtcPeerConnection) -> u64 {
    let Ok(report) = JsFuture::from(pc.get_stats()).await else {
        return 0;
    };
    let mut packets = 0.0;
    report
        .unchecked_ref::<js_sys::Map>()
        .for_each(&mut |entry, _key| {
            if matches!(value(&entry, "type"), Value::Text(t) if t == "inbound-rtp")
                && let Value::Num(n) = value(&entry, "packetsReceived")
            {
                packets += n;
            }
        });
    packets as u64
}

/// The safety code of the negotiated session; `None` before both descriptions are applied
/// or when the browser cannot hash.
pub async fn safety_code(pc: &RtcPeerConnection) -> Option<String> {
    let local = pc.local_description()?.sdp();
    let remote = pc.remote_description()?.sdp();
    let input = code_input(&local, &remote).ok()?;
    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    let promise = subtle
        .digest_with_str_and_u8_array("SHA-256", input.as_bytes())
        .ok()?;
    let digest = JsFuture::from(promise).await.ok()?;
    Some(code_from_digest(&Uint8Array::new(&digest).to_vec()))
}
