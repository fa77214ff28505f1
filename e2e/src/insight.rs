//! Helpers for the stats, quality and safety-code scenarios (tests/insight.rs): reading the
//! page's hooks (`#quality[data-level]`, `#stats[data-route]`, `#safetycode`), a hook on the
//! page's RTCPeerConnections to record real `getStats` reports, and [`ForgingRelay`]: a signaling
//! relay that changes the DTLS fingerprint in every offer it passes on, as a compromised server
//! would to sit in the middle of a call.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::probes::Page;

/// Keeps every RTCPeerConnection the page makes in `window.__duetPcs`, so a recorder can read
/// its `getStats` and applied descriptions. Installed before any page script.
const PC_HOOK: &str = r#"
(() => {
  const Base = window.RTCPeerConnection;
  if (!Base) return;
  window.__duetPcs = [];
  window.RTCPeerConnection = class extends Base {
    constructor(...args) { super(...args); window.__duetPcs.push(this); }
  };
})();
"#;

/// Installs the RTCPeerConnection hook on every document `page` loads from now on.
pub async fn hook_peer_connections(page: &Page) -> Result<()> {
    page.browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": PC_HOOK }),
        )
        .await?;
    Ok(())
}

/// The last hooked connection's `getStats` entries (`[...report.values()]`) and its applied
/// descriptions `{type, local, remote}` (`type`: of the local one, `offer` or `answer`).
pub async fn record_peer(page: &Page) -> Result<(Value, Value)> {
    let v = page
        .browser
        .client()
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const pc = (window.__duetPcs || []).at(-1);
               if (!pc) { done(null); return; }
               pc.getStats().then((r) => done({
                 stats: [...r.values()],
                 descriptions: { type: pc.localDescription && pc.localDescription.type,
                                 local: pc.localDescription && pc.localDescription.sdp,
                                 remote: pc.remoteDescription && pc.remoteDescription.sdp },
               }), (e) => done({ error: String(e) }));"#,
            vec![],
        )
        .await
        .with_context(|| format!("{}: cannot read getStats", page.label))?;
    anyhow::ensure!(!v.is_null(), "{}: no RTCPeerConnection hooked", page.label);
    anyhow::ensure!(
        v.get("error").is_none(),
        "{}: getStats failed: {v}",
        page.label
    );
    Ok((v["stats"].clone(), v["descriptions"].clone()))
}

/// What the page's insight hooks show now.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Insight {
    /// `#quality[data-level]`.
    pub quality: Option<String>,
    /// `#quality`'s text (the label, not colour only).
    pub quality_text: Option<String>,
    /// `#stats[data-route]`.
    pub route: Option<String>,
    /// Whether the stats panel is open.
    pub panel_open: bool,
    /// The panel's text.
    pub panel_text: Option<String>,
    /// `#safetycode`'s text.
    pub safety_code: Option<String>,
    /// `#callproblem`'s text.
    pub problem: Option<String>,
    /// `#callstatus[data-state]`.
    pub state: Option<String>,
}

/// Reads the hooks.
pub async fn read(page: &Page) -> Result<Insight> {
    let v = page
        .eval(
            r#"const q = (s) => document.querySelector(s);
               const text = (s) => { const e = q(s); return e ? e.textContent.trim() : null; };
               const panel = q('#statspanel');
               return {
                 quality: q('#quality') && q('#quality').getAttribute('data-level'),
                 quality_text: text('#quality'),
                 route: q('#stats') && q('#stats').getAttribute('data-route'),
                 panel_open: !!panel && !panel.hidden,
                 panel_text: panel && !panel.hidden ? panel.textContent : null,
                 safety_code: text('#safetycode'),
                 problem: text('#callproblem'),
                 state: q('#callstatus') && q('#callstatus').getAttribute('data-state'),
               };"#,
            vec![],
        )
        .await?;
    serde_json::from_value(v).with_context(|| format!("{}: unexpected hooks reading", page.label))
}

/// A signaling relay in front of a server: pages load the site and open their WebSocket through
/// it (same origin, so the server's CSP and origin check pass), and it changes one hex digit of
/// every `a=fingerprint` in each `getOffer` it passes to a page. See the module documentation.
pub struct ForgingRelay {
    addr: SocketAddr,
    forged: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl ForgingRelay {
    /// Starts relaying a free 127.0.0.1 port to `upstream` (`host:port`).
    pub async fn start(upstream: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let forged = Arc::new(AtomicUsize::new(0));
        let count = forged.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let _ = relay(client, server, count).await;
                    }
                });
            }
        });
        Ok(Self { addr, forged, task })
    }

    /// The origin pages load from, e.g. `http://127.0.0.1:41234`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many fingerprints it changed so far.
    pub fn forged(&self) -> usize {
        self.forged.load(Ordering::SeqCst)
    }
}

impl Drop for ForgingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, server: TcpStream, forged: Arc<AtomicUsize>) -> Result<()> {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let up = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_rx, &mut server_tx).await;
        let _ = server_tx.shutdown().await;
    });
    let result = downstream(&mut server_rx, &mut client_tx, &forged).await;
    up.abort();
    result
}

/// Server → page: the HTTP response head as is; after a `101` the WebSocket frames one by one
/// (a server's frames are not masked), each passed through [`forge_offer`]; anything else raw.
async fn downstream(
    from: &mut (impl AsyncReadExt + Unpin),
    to: &mut (impl AsyncWriteExt + Unpin),
    forged: &AtomicUsize,
) -> Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if from.read_buf(&mut buf).await? == 0 {
            to.write_all(&buf).await?;
            return Ok(());
        }
    };
    to.write_all(&buf[..head_end]).await?;
    let upgraded = buf.starts_with(b"HTTP/1.1 101");
    buf.drain(..head_end);
    if !upgraded {
        to.write_all(&buf).await?;
        tokio::io::copy(from, to).await?;
        return Ok(());
    }
    loop {
        while let Some(len) = frame_len(&buf) {
            let mut frame: Vec<u8> = buf.drain(..len).collect();
            let head = len - payload_len(&frame);
            forged.fetch_add(forge_offer(&mut frame[head..]), Ordering::SeqCst);
            to.write_all(&frame).await?;
        }
        if from.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
    }
}

/// A server frame's payload length from its header, if the header is complete.
fn header(buf: &[u8]) -> Option<(usize, usize)> {
    let b1 = *buf.get(1)?;
    match b1 & 0x7f {
        126 => Some((
            4,
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
        )),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            Some((10, usize::try_from(u64::from_be_bytes(bytes)).ok()?))
        }
        n => Some((2, usize::from(n))),
    }
}

/// The whole frame's length, if the buffer holds all of it.
fn frame_len(buf: &[u8]) -> Option<usize> {
    let (h, n) = header(buf)?;
    (buf.len() >= h + n).then_some(h + n)
}

fn payload_len(frame: &[u8]) -> usize {
    header(frame).map_or(0, |(_, n)| n)
}

/// In a `getOffer` event, changes the first hex digit of every `a=fingerprint` value (the
/// length stays, so the frame needs no new header); returns how many it changed.
pub fn forge_offer(payload: &mut [u8]) -> usize {
    const EVENT: &[u8] = b"[\"getOffer\"";
    const FINGERPRINT: &[u8] = b"a=fingerprint:";
    if !payload.windows(EVENT.len()).any(|w| w == EVENT) {
        return 0;
    }
    let mut changed = 0;
    let mut at = 0;
    while let Some(i) = payload[at..]
        .windows(FINGERPRINT.len())
        .position(|w| w == FINGERPRINT)
    {
        // After the algorithm name and its space, the first hex digit.
        let start = at + i + FINGERPRINT.len();
        let Some(space) = payload[start..].iter().position(|&c| c == b' ') else {
            break;
        };
        let digit = start + space + 1;
        match payload.get(digit) {
            Some(c) if c.is_ascii_hexdigit() => {
                payload[digit] = if *c == b'0' { b'1' } else { b'0' };
                changed += 1;
            }
            _ => {}
        }
        at = digit;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forges_offers_only() {
        let mut offer = br#"42["getOffer",{"type":"offer","sdp":"v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=video\r\na=fingerprint:sha-256 0B:CD\r\n"}]"#.to_vec();
        assert_eq!(forge_offer(&mut offer), 2);
        let text = String::from_utf8(offer).unwrap();
        assert!(text.contains("sha-256 0B:CD\\r\\nm=video"), "{text}");
        assert!(text.contains("sha-256 1B:CD\\r\\n\"}"), "{text}");
        let mut answer =
            br#"42["getAnswer",{"type":"answer","sdp":"a=fingerprint:sha-256 AB"}]"#.to_vec();
        assert_eq!(forge_offer(&mut answer), 0);
    }

    #[test]
    fn frames_are_cut_at_their_length() {
        let mut frame = vec![0x81, 126, 0x01, 0x00];
        frame.extend(std::iter::repeat_n(b'x', 256));
        assert_eq!(frame_len(&frame[..100]), None);
        assert_eq!(frame_len(&frame), Some(260));
        assert_eq!(frame_len(&[0x81, 3, b'a', b'b', b'c', 0x81]), Some(5));
    }
}
