//! What ICE did on a page, read from the browser: the candidate pair it selected (getStats on
//! the page's newest RTCPeerConnection, which instrument.js remembers), and when remote
//! frames resumed after a moment on the page's clock ([`Page::clock`], from instrument.js's
//! 100 ms samples).

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;

use crate::probes::Page;

/// The selected candidate pair's two ends.
#[derive(Debug, Clone, Deserialize)]
pub struct SelectedPair {
    /// The local candidate's type: "host", "srflx", "prflx" or "relay".
    pub local_type: String,
    /// The remote candidate's type.
    pub remote_type: String,
    /// The local candidate's address and port.
    pub local_address: String,
    /// The remote candidate's address and port.
    pub remote_address: String,
}

/// Reads the selected pair of the page's newest peer connection: the transport's
/// `selectedCandidatePairId`, or else the nominated, succeeded pair.
pub async fn selected_pair(page: &Page) -> Result<Option<SelectedPair>> {
    const SCRIPT: &str = r#"
        const done = arguments[arguments.length - 1];
        const pcs = (window.__e2e && window.__e2e.pcs) || [];
        const pc = pcs[pcs.length - 1];
        if (!pc) { done(null); return; }
        pc.getStats().then((report) => {
          const all = [...report.values()];
          const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
          const pair = transport
            ? report.get(transport.selectedCandidatePairId)
            : all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
          if (!pair) { done(null); return; }
          const l = report.get(pair.localCandidateId) || {};
          const r = report.get(pair.remoteCandidateId) || {};
          done({
            local_type: String(l.candidateType),
            remote_type: String(r.candidateType),
            local_address: `${l.address || l.ip}:${l.port}`,
            remote_address: `${r.address || r.ip}:${r.port}`,
          });
        }, (e) => done({ error: String(e) }));
    "#;
    let v = page
        .browser
        .client()
        .execute_async(SCRIPT, vec![])
        .await
        .with_context(|| format!("{}: getStats failed", page.label))?;
    if v.is_null() {
        return Ok(None);
    }
    if let Some(e) = v.get("error") {
        return Err(anyhow!("{}: getStats: {e}", page.label));
    }
    serde_json::from_value(v)
        .map(Some)
        .with_context(|| format!("{}: unexpected stats", page.label))
}

/// How long after `since` (page clock, ms) the remote video decoded its first new frame, from
/// the 100 ms samples (so to within about 100 ms); None when no frame came after it yet.
pub async fn frames_resumed_after(page: &Page, since: f64) -> Result<Option<f64>> {
    const SCRIPT: &str = r#"
        const since = arguments[0];
        const samples = (window.__e2e && window.__e2e.samples) || [];
        let before = null;
        for (const s of samples) {
          if (s.t < since) { before = s.frames; continue; }
          if (before !== null && s.frames > before) return s.t - since;
          before = s.frames;
        }
        return null;
    "#;
    let v = page.eval(SCRIPT, vec![serde_json::json!(since)]).await?;
    Ok(v.as_f64())
}

/// The page's peer connections' state changes from `from` on (page clock, ms), as
/// "-3.2 s pc2 ice checking" lines with times relative to `origin`, for a scenario to print how
/// a recovery went (connections are numbered in the order the page made them).
pub async fn link_log(page: &Page, from: f64, origin: f64) -> Result<Vec<String>> {
    const SCRIPT: &str = r#"
        const [from, origin] = arguments;
        return ((window.__e2e && window.__e2e.links) || [])
          .filter((e) => e.t >= from)
          .map((e) => `${e.t >= origin ? '+' : ''}${((e.t - origin) / 1000).toFixed(1)} s pc${e.pc} ${e.what}`);
    "#;
    let v = page
        .eval(
            SCRIPT,
            vec![serde_json::json!(from), serde_json::json!(origin)],
        )
        .await?;
    serde_json::from_value(v).with_context(|| format!("{}: unexpected link log", page.label))
}
