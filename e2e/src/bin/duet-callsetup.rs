//! `duet-callsetup`: the call set-up benchmark. Pairs of headless Chromium pages with fake media
//! call each other through duet-server; for each call it reads, on the second page's own clock
//! (0 = the start of its navigation), when the remote `<video>` got its first frame and when it
//! started playing, and when each phase of the set-up happened (instrument.js). Duet's page and
//! the seed's JS client, plus the physical floor: one page that asks for the camera and connects
//! two RTCPeerConnections to each other in-page (e2e/src/floor.html), timed from its script's
//! start to the first remote frame. The same number of each, taken in turn in one run. Writes a
//! JSON summary that `duet-bench` puts into bench/RESULTS.md.
//!
//!   cargo run --release -p duet-e2e --bin duet-callsetup -- --calls 15 --out target/callsetup.json

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use duet_e2e::{App, Page, Permission, Server, ServerKind, Test, page_url};
use serde_json::json;

const WITHIN: Duration = Duration::from_secs(30);

/// The phases of the second page's set-up, in call order, as instrument.js names them.
const PHASES: [&str; 9] = [
    "script",
    "socketOpen",
    "connected",
    "joinSent",
    "allUsers",
    "offer",
    "answer",
    "iceConnected",
    "firstFrame",
];

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Median and 90th percentile of `v` (nearest rank).
fn summary(mut v: Vec<f64>) -> serde_json::Value {
    if v.is_empty() {
        return json!({ "median_ms": null, "p90_ms": null, "samples_ms": [] });
    }
    v.sort_by(f64::total_cmp);
    let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    json!({ "median_ms": rank(0.5), "p90_ms": rank(0.9), "samples_ms": v })
}

/// What one call measured on the second page: phase → ms on its clock.
type Timings = BTreeMap<String, f64>;

/// Reads the second page's timings once its remote video has a frame.
const READ_TIMINGS: &str = r#"
const e = window.__e2e;
const out = Object.assign({}, e.phases);
const wasm = performance.getEntriesByName('duet:wasm-start')[0];
if (wasm) out.script = wasm.startTime;
// The app's own marks (src: `Action::Mark`), each at its first time: where Duet's time goes.
for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('duet:') && !(m.name in out)) out[m.name] = m.startTime;
// When the app's code had arrived (the wasm and its JS glue, or the seed's bundle).
for (const r of performance.getEntriesByType('resource')) { const f = r.name.split('/').pop(); if (/\.(wasm|js)$/.test(f)) { const k = 'load:' + (f.endsWith('.wasm') ? 'wasm' : 'js'); if (!(k + ':end' in out)) { out[k + ':start'] = r.fetchStart; out[k + ':end'] = r.responseEnd; } } }
const nav = performance.getEntriesByType('navigation')[0];
if (nav) { out['load:html:end'] = nav.responseEnd; out['load:domInteractive'] = nav.domInteractive; }
if (window.floor) for (const k of ['start', 'offer', 'answer']) if (typeof window.floor[k] === 'number') out[k === 'start' ? 'script' : k] = window.floor[k];
if (e.remoteFirstFrameAt !== undefined) out.firstFrame = e.remoteFirstFrameAt;
if (e.remotePlayingAt !== undefined) out.playing = e.remotePlayingAt;
return out;
"#;

async fn timings(page: &Page) -> Result<Timings> {
    let v = page.eval(READ_TIMINGS, vec![]).await?;
    let all: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(v).context("unexpected timings")?;
    // A phase the page has not reached yet is simply absent.
    Ok(all
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_f64()?)))
        .collect())
}

/// Polls `page` until its remote video has a first frame (the floor has no status to wait for).
async fn wait_first_frame(page: &Page) -> Result<Timings> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let t = timings(page).await?;
        if t.contains_key("firstFrame") {
            return Ok(t);
        }
        if Instant::now() >= deadline {
            let why = page
                .eval("return window.floor && window.floor.error || null;", vec![])
                .await?;
            bail!("{}: no remote frame after {WITHIN:?} ({why})", page.label);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One call in room `room`: the first page waits in the room, then the second page navigates and
/// its timings are read on its own clock.
async fn one_call(t: &mut Test, app: App, server: &Server, room: &str) -> Result<Timings> {
    let a = t
        .open("first", app, server, room, Permission::Grant)
        .await?;
    a.wait_in_room(app, WITHIN).await?;
    // The browser starts before the clock does: only the page's own work is timed.
    let b = t.launch("second", Permission::Grant).await?;
    b.goto(&page_url(app, server, room, "second")).await?;
    b.wait_playing(WITHIN).await?;
    let times = timings(&b).await?;
    if !times.contains_key("firstFrame") || !times.contains_key("playing") {
        bail!("{app:?} in {room}: the page recorded no remote frame/playing time: {times:?}");
    }
    t.close(&b).await?;
    t.close(&a).await?;
    Ok(times)
}

/// The floor: one page, camera and two peer connections connected in-page.
async fn one_floor(t: &mut Test, server: &Server) -> Result<Timings> {
    let page = t.launch("floor", Permission::Grant).await?;
    page.goto(&format!("{}/floor/", server.origin())).await?;
    let times = wait_first_frame(&page).await?;
    t.close(&page).await?;
    Ok(times)
}

/// Per-phase medians and p90s of `calls`, plus the time from the script's start to the first
/// frame (the floor's own measure, reported for the apps too).
fn side(calls: &[Timings]) -> serde_json::Value {
    let column =
        |key: &str| -> Vec<f64> { calls.iter().filter_map(|c| c.get(key)).copied().collect() };
    let mut phases = serde_json::Map::new();
    for p in PHASES
        .iter()
        .chain(["playing", "eioOpen", "pcConnected"].iter())
    {
        phases.insert((*p).to_owned(), summary(column(p)));
    }
    // Duet's own marks: what happens between the phases.
    let marks: serde_json::Map<String, serde_json::Value> = calls
        .iter()
        .flat_map(|c| c.keys())
        .filter(|k| k.starts_with("duet:") || k.starts_with("load:"))
        .map(|k| (k.clone(), summary(column(k))))
        .collect();
    let from_script: Vec<f64> = calls
        .iter()
        .filter_map(|c| Some(c.get("firstFrame")? - c.get("script")?))
        .collect();
    json!({
        "calls": calls.len(),
        "first_frame": summary(column("firstFrame")),
        "playing": summary(column("playing")),
        "script_to_first_frame": summary(from_script),
        "phases": phases,
        "marks": marks,
        "samples": calls,
    })
}

/// Runs `calls` calls of each app and `calls` floor runs through one duet-server, interleaved
/// (the order rotates each round) so that a change in the machine's load during the run weighs
/// on all three alike.
async fn measure(calls: usize) -> Result<serde_json::Value> {
    let mut t = Test::new("callsetup").await?;
    let server = t.server(ServerKind::Duet).await?;
    // 0: Duet, 1: seed, 2: floor.
    let mut runs: [Vec<Timings>; 3] = Default::default();
    for i in 0..calls {
        for k in 0..3 {
            let which = (i + k) % 3;
            let times = match which {
                0 | 1 => {
                    let app = [App::Duet, App::Seed][which];
                    let room = format!("setup-{app:?}-{i}").to_lowercase();
                    one_call(&mut t, app, &server, &room).await?
                }
                _ => one_floor(&mut t, &server).await?,
            };
            let label = ["Duet", "Seed", "floor"][which];
            eprintln!("{label} {i}: {times:?}");
            runs[which].push(times);
        }
    }
    let [duet, seed, floor] = runs;
    Ok(json!({
        "server": "duet-server",
        "duet": side(&duet),
        "seed": side(&seed),
        "floor": side(&floor),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let calls: usize = arg("--calls")
        .map_or(Ok(15), |c| c.parse())
        .context("--calls")?;
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "target/callsetup.json".into()));
    if calls == 0 {
        bail!("--calls must be at least 1");
    }
    let result = measure(calls).await?;
    std::fs::write(&out, serde_json::to_string_pretty(&result)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
