//! What the stats panel shows, computed from two consecutive [`Sample`]s: rates and loss need
//! the difference between readings; everything else is the latest reading's. Values a browser
//! does not report stay `None` and read "—". The text is built with integer formatting only
//! (no `format!`), which keeps the panel small in the wasm bundle.

use super::sample::{Picture, Route, Sample};

/// The panel's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// The selected route.
    pub route: Option<Route>,
    /// Round-trip time, milliseconds.
    pub rtt_ms: Option<f64>,
    /// Jitter of what comes in, milliseconds.
    pub jitter_ms: Option<f64>,
    /// Loss of what comes in, percent.
    pub loss_in_pct: Option<f64>,
    /// Loss of what goes out (as the other side reports it), percent.
    pub loss_out_pct: Option<f64>,
    /// Bitrate received, kbit/s.
    pub kbps_in: Option<f64>,
    /// Bitrate sent, kbit/s.
    pub kbps_out: Option<f64>,
    /// Picture received.
    pub video_in: Picture,
    /// Picture sent.
    pub video_out: Picture,
    /// Audio codec.
    pub audio_codec: Option<String>,
    /// Video codec.
    pub video_codec: Option<String>,
}

/// `part` of `part + rest`, in percent; `None` when nothing was counted.
fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (100.0 * part / whole).clamp(0.0, 100.0))
}

/// A counter's growth between readings (counters restart with a new stream: never negative).
fn delta(prev: Option<f64>, cur: Option<f64>) -> Option<f64> {
    Some((cur? - prev?).max(0.0))
}

impl Stats {
    /// The figures of `cur`, with rates and loss over the time since `prev` (loss since the
    /// start of the call when `prev` did not count that direction; rates need it).
    pub fn between(prev: Option<&Sample>, cur: &Sample) -> Self {
        let span_s = prev
            .and_then(|p| delta(p.at_ms, cur.at_ms))
            .filter(|ms| *ms > 0.0)
            .map(|ms| ms / 1000.0);
        let rate = |p: Option<f64>, c: Option<f64>| Some(delta(p, c)? * 8.0 / 1000.0 / span_s?);
        // Loss over the interval when both readings count the direction; otherwise (the first
        // reading, or packets only just started) over the whole call.
        let counts = |p: Option<&super::sample::Counters>, c: &super::sample::Counters| match p
            .map(|p| (delta(p.lost, c.lost), delta(p.packets, c.packets)))
        {
            Some((Some(lost), Some(packets))) => (Some(lost), Some(packets)),
            _ => (c.lost.map(|l| l.max(0.0)), c.packets),
        };
        let inb = counts(prev.map(|p| &p.inbound), &cur.inbound);
        let outb = counts(prev.map(|p| &p.outbound), &cur.outbound);
        let loss_in_pct = match inb {
            (Some(lost), Some(got)) => percent(lost, lost + got),
            _ => None,
        };
        // The other side's own figure for the last interval is the better one when reported.
        let loss_out_pct = cur
            .fraction_lost_out
            .map(|f| (f * 100.0).clamp(0.0, 100.0))
            .or_else(|| match outb {
                (Some(lost), Some(sent)) => percent(lost, sent),
                _ => None,
            });
        Self {
            route: cur.route,
            rtt_ms: cur.rtt_s.map(|s| s * 1000.0),
            jitter_ms: cur.jitter_s.map(|s| s * 1000.0),
            loss_in_pct,
            loss_out_pct,
            kbps_in: prev.and_then(|p| rate(p.inbound.bytes, cur.inbound.bytes)),
            kbps_out: prev.and_then(|p| rate(p.outbound.bytes, cur.outbound.bytes)),
            video_in: cur.video_in,
            video_out: cur.video_out,
            audio_codec: cur.audio_codec.clone(),
            video_codec: cur.video_codec.clone(),
        }
    }

    /// The panel's rows: a label and its value as text.
    pub fn rows(&self) -> [(&'static str, String); 8] {
        [
            ("Route", route_text(self.route)),
            ("Round trip", unit(self.rtt_ms, " ms")),
            ("Jitter", unit(self.jitter_ms, " ms")),
            (
                "Loss in / out",
                pair(self.loss_in_pct, self.loss_out_pct, " %"),
            ),
            (
                "Bitrate in / out",
                pair(self.kbps_in, self.kbps_out, " kbit/s"),
            ),
            ("Video in", picture_text(&self.video_in)),
            ("Video out", picture_text(&self.video_out)),
            (
                "Codecs",
                join(
                    self.audio_codec.as_deref().unwrap_or(DASH),
                    self.video_codec.as_deref().unwrap_or(DASH),
                ),
            ),
        ]
    }
}

/// What a value the browser did not report reads.
pub const DASH: &str = "—";

/// Appends `v` rounded to a whole number (negative values read 0).
fn push_int(out: &mut String, v: f64) {
    out.push_str(&crate::transfer::units::decimal(v.round().max(0.0) as u64));
}

/// `v` with one decimal below 10 (loss of 0.4 % matters), whole above. Integer arithmetic
/// only: a float remainder would bring `fmod` and 128-bit division into the wasm (2 KB).
fn push_num(out: &mut String, v: f64) {
    if v < 9.95 {
        let tenths = (v * 10.0).round().max(0.0) as u64;
        push_int(out, (tenths / 10) as f64);
        out.push('.');
        out.push(char::from(b'0' + (tenths % 10) as u8));
    } else {
        push_int(out, v);
    }
}

/// `12 ms`, or "—".
pub fn unit(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => {
            let mut s = String::new();
            push_num(&mut s, v);
            s.push_str(unit);
            s
        }
        None => DASH.to_owned(),
    }
}

fn join(a: &str, b: &str) -> String {
    let mut s = String::from(a);
    s.push_str(" / ");
    s.push_str(b);
    s
}

fn pair(a: Option<f64>, b: Option<f64>, unit_text: &str) -> String {
    join(&unit(a, ""), &unit(b, unit_text))
}

fn route_text(route: Option<Route>) -> String {
    let Some(r) = route else {
        return DASH.to_owned();
    };
    let name = |t: Option<super::sample::CandidateType>| t.map_or(DASH, |t| t.as_str());
    let mut s = join(name(r.local), name(r.remote));
    if let Some(t) = r.transport {
        s.push_str(", ");
        s.push_str(t.as_str());
    }
    if let Some(t) = r.relay {
        s.push_str(", relay over ");
        s.push_str(t.as_str());
    }
    s
}

/// `640×480, 30 fps`, or "—" for the parts not reported.
fn picture_text(p: &Picture) -> String {
    let mut s = String::new();
    match (p.width, p.height) {
        (Some(w), Some(h)) => {
            push_int(&mut s, w);
            s.push('×');
            push_int(&mut s, h);
        }
        _ => s.push_str(DASH),
    }
    s.push_str(", ");
    s.push_str(&unit(p.fps, " fps"));
    s
}
