//! `duet-callsetup`: the call set-up benchmark. Pairs of headless Chromium pages with fake media
//! call each other through duet-server; for each call it reads, on the second page's own clock
//! (0 = the start of its navigation), when the remote `<video>` got its first frame and when it
//! started playing. Duet's page and the seed's JS client, the same number of calls each, in one
//! run. Writes a JSON summary that `duet-bench` puts into bench/RESULTS.md.
//!
//!   cargo run --release -p duet-e2e --bin duet-callsetup -- --calls 10 --out target/callsetup.json

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use duet_e2e::{App, Permission, ServerKind, Test, page_url};
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

async fn measure(app: App, calls: usize) -> Result<serde_json::Value> {
    let mut t = Test::new(&format!("callsetup-{app:?}").to_lowercase()).await?;
    let server = t.server(ServerKind::Duet).await?;
    let (mut first_frame, mut playing) = (Vec::new(), Vec::new());
    for i in 0..calls {
        let room = format!("setup{i}");
        let a = t
            .open("first", app, &server, &room, Permission::Grant)
            .await?;
        a.wait_in_room(app, WITHIN).await?;
        // The browser starts before the clock does: only the page's own work is timed.
        let b = t.launch("second", Permission::Grant).await?;
        b.goto(&page_url(app, &server, &room, "second")).await?;
        b.wait_playing(WITHIN).await?;
        let v = b
            .eval(
                "return [window.__e2e.remoteFirstFrameAt ?? null, window.__e2e.remotePlayingAt ?? null];",
                vec![],
            )
            .await?;
        let (Some(f), Some(p)) = (v[0].as_f64(), v[1].as_f64()) else {
            bail!("call {i}: the page recorded no remote frame/playing time: {v}");
        };
        eprintln!("{app:?} call {i}: first remote frame {f:.0} ms, playing {p:.0} ms");
        first_frame.push(f);
        playing.push(p);
        t.close(&b).await?;
        t.close(&a).await?;
    }
    Ok(json!({ "calls": calls, "first_frame": summary(first_frame), "playing": summary(playing) }))
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
    let duet = measure(App::Duet, calls).await?;
    let seed = measure(App::Seed, calls).await?;
    let result = json!({ "server": "duet-server", "duet": duet, "seed": seed });
    std::fs::write(&out, serde_json::to_string_pretty(&result)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
