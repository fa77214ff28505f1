//! `duet-callsetup`: the call set-up benchmark. Pairs of headless Chromium pages with fake media
//! call each other through duet-server; for each call it reads, on the second page's own clock
//! (0 = the start of its navigation), when the remote `<video>` got its first frame and when it
//! started playing. Duet's page and the seed's JS client, the same number of calls each, taken in
//! turn in one run. Writes a JSON summary that `duet-bench` puts into bench/RESULTS.md.
//!
//!   cargo run --release -p duet-e2e --bin duet-callsetup -- --calls 10 --out target/callsetup.json

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use duet_e2e::{App, Permission, Server, ServerKind, Test, page_url};
use serde_json::json;

const WITHIN: Duration = Duration::from_secs(30);

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Median and 90th percentile of `v` (nearest rank).
fn summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    json!({ "median_ms": rank(0.5), "p90_ms": rank(0.9), "samples_ms": v })
}

/// One call in room `room`: the first page waits in the room, then the second page navigates and
/// the times to its first remote frame and to playback are read on its own clock.
async fn one_call(t: &mut Test, app: App, server: &Server, room: &str) -> Result<(f64, f64)> {
    let a = t
        .open("first", app, server, room, Permission::Grant)
        .await?;
    a.wait_in_room(app, WITHIN).await?;
    // The browser starts before the clock does: only the page's own work is timed.
    let b = t.launch("second", Permission::Grant).await?;
    b.goto(&page_url(app, server, room, "second")).await?;
    b.wait_playing(WITHIN).await?;
    let v = b
        .eval(
            "return [window.__e2e.remoteFirstFrameAt ?? null, window.__e2e.remotePlayingAt ?? null];",
            vec![],
        )
        .await?;
    let (Some(f), Some(p)) = (v[0].as_f64(), v[1].as_f64()) else {
        bail!("{app:?} in {room}: the page recorded no remote frame/playing time: {v}");
    };
    t.close(&b).await?;
    t.close(&a).await?;
    Ok((f, p))
}

/// Runs `calls` calls of each app through one duet-server, interleaved (Duet, seed, seed, Duet,
/// …) so that a change in the machine's load during the run weighs on both apps alike.
async fn measure(calls: usize) -> Result<serde_json::Value> {
    let mut t = Test::new("callsetup").await?;
    let server = t.server(ServerKind::Duet).await?;
    let apps = [App::Duet, App::Seed];
    let mut times: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    for i in 0..calls {
        for k in 0..apps.len() {
            // Alternate which app goes first so neither always follows the other's teardown.
            let slot = if i % 2 == 0 { k } else { apps.len() - 1 - k };
            let app = apps[slot];
            let room = format!("setup-{app:?}-{i}").to_lowercase();
            let (f, p) = one_call(&mut t, app, &server, &room).await?;
            eprintln!("{app:?} call {i}: first remote frame {f:.0} ms, playing {p:.0} ms");
            times[slot].0.push(f);
            times[slot].1.push(p);
        }
    }
    let [(duet_f, duet_p), (seed_f, seed_p)] = times;
    let side = |f, p| json!({ "calls": calls, "first_frame": summary(f), "playing": summary(p) });
    Ok(
        json!({ "server": "duet-server", "duet": side(duet_f, duet_p), "seed": side(seed_f, seed_p) }),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let calls: usize = arg("--calls")
        .map_or(Ok(10), |c| c.parse())
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
