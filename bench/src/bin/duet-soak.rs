//! `duet-soak`: pairs joining, calling (offer, answer, candidates both ways), leaving and
//! rejoining in a loop, a few hundred at once, against one duet-server and against two nodes
//! sharing rooms over Redis. Afterwards the server must be back where it started: rooms,
//! members and connections gauges at 0, open descriptors and tokio tasks at their baseline,
//! resident memory within 5% of a warmed-up baseline; and no relay lost or crossed.
//!
//! ```sh
//! cargo build --release -p duet-server -p duet-bench
//! target/release/duet-soak --minutes 30 --out /tmp/soak.md   # the full run, both setups
//! target/release/duet-soak --smoke                           # CI: ~1 minute, counts only
//! ```
//! Phases per setup: warm-up (the allocator and the runtime reach their working size), quiet
//! (every client closed, gauges read until they are 0), baseline readings, the soak proper,
//! quiet again, final readings. `--smoke` asserts only counts (gauges, descriptors, tasks, lost,
//! crossed), never a timing or a memory figure; the full run also checks RSS.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use duet_bench::nodes::{self, Proc, loadavg, node, redis};
use duet_bench::servers::proc_rss;
use duet_bench::soak::{Counts, Pair, Tally};
use tokio::time::Instant;

#[derive(Parser, Debug)]
struct Args {
    /// Pairs looping at once.
    #[arg(long, default_value_t = 200)]
    pairs: usize,
    /// Minutes of soak per setup (after the warm-up).
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Seconds of warm-up per setup.
    #[arg(long, default_value_t = 60.0)]
    warmup: f64,
    /// Candidates each side sends per round.
    #[arg(long, default_value_t = 4)]
    candidates: usize,
    /// Milliseconds each pair waits between rounds.
    #[arg(long, default_value_t = 1000)]
    pause_ms: u64,
    /// Which setups: `one`, `two` (nodes over Redis) or `both`.
    #[arg(long, default_value = "both")]
    setups: String,
    /// CI mode: 100 pairs, 25 s of soak and 5 s of warm-up per setup; asserts counts only.
    #[arg(long)]
    smoke: bool,
    /// The duet-server binary.
    #[arg(long, default_value = "target/release/duet-server")]
    server: PathBuf,
    /// Markdown output (printed too).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One node's readings at a quiet moment.
#[derive(Debug, Clone, Copy)]
struct Reading {
    connections: f64,
    rooms: f64,
    members: f64,
    tasks: f64,
    fds: usize,
    threads: usize,
    rss: u64,
}

fn read(p: &Proc, addr: SocketAddr) -> Reading {
    let (fds, threads, rss) = (
        nodes::open_fds(p.pid()),
        nodes::threads(p.pid()),
        proc_rss(p.pid()),
    );
    let text = nodes::metrics(addr).unwrap_or_default();
    let get = |name| nodes::series(&text, name).unwrap_or(f64::NAN);
    Reading {
        connections: get("duet_connections"),
        rooms: get("duet_rooms"),
        members: get("duet_room_members"),
        tasks: get("duet_tokio_alive_tasks"),
        fds,
        threads,
        rss,
    }
}

/// Reads the gauges until connections, rooms and members are all 0, or 60 s have passed
/// (sockets close asynchronously after their clients go); then five more readings over a
/// second, keeping the fewest descriptors, threads and tokio tasks: the reading's own
/// `/metrics` connection (and a Redis reconnect) may still hold one for a moment, a leak holds
/// it in every reading. (Tasks were taken from one reading until 30 Nov; a CI smoke run then
/// read 9 against a baseline of 8 on a Redis node, one task still finishing.)
async fn quiet(p: &Proc, addr: SocketAddr) -> Reading {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut r = read(p, addr);
    while !(r.connections == 0.0 && r.rooms == 0.0 && r.members == 0.0) && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        r = read(p, addr);
    }
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let again = read(p, addr);
        r.fds = r.fds.min(again.fds);
        r.threads = r.threads.min(again.threads);
        r.tasks = r.tasks.min(again.tasks);
    }
    r
}

async fn phase(
    args: &Args,
    first: SocketAddr,
    second: SocketAddr,
    prefix: &str,
    length: Duration,
) -> Counts {
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    for index in 0..args.pairs {
        let pair = Pair {
            index,
            prefix: prefix.to_owned(),
            first,
            second,
            candidates: args.candidates,
            pause: Duration::from_millis(args.pause_ms),
        };
        let tally = tally.clone();
        tasks.push(tokio::spawn(
            async move { pair.run(deadline, &tally).await },
        ));
        // Spread the starts over the first pause so the pairs do not move in lockstep.
        tokio::time::sleep(Duration::from_millis(args.pause_ms) / args.pairs.max(1) as u32).await;
    }
    for t in tasks {
        let _ = t.await;
    }
    tally.counts()
}

struct Outcome {
    markdown: String,
    ok: bool,
}

async fn setup(args: &Args, two: bool) -> Outcome {
    let (_redis, url) = if two {
        let (p, u) = redis();
        (Some(p), Some(u))
    } else {
        (None, None)
    };
    let mut procs = vec![node(&args.server, url.as_deref())];
    if two {
        procs.push(node(&args.server, url.as_deref()));
    }
    let first = procs[0].1;
    let second = procs.last().map_or(first, |(_, a)| *a);
    let label = if two {
        "two nodes over Redis"
    } else {
        "one node"
    };
    let mut fresh = Vec::new();
    for (p, a) in &procs {
        fresh.push(quiet(p, *a).await);
    }

    let started = Instant::now();
    let warm = phase(
        args,
        first,
        second,
        "warm",
        Duration::from_secs_f64(args.warmup),
    )
    .await;
    let mut base = Vec::new();
    for (p, a) in &procs {
        base.push(quiet(p, *a).await);
    }
    let soak_started = Instant::now();
    let soak = phase(
        args,
        first,
        second,
        "soak",
        Duration::from_secs_f64(args.minutes * 60.0),
    )
    .await;
    let soak_secs = soak_started.elapsed().as_secs_f64();
    let mut after = Vec::new();
    for (p, a) in &procs {
        after.push(quiet(p, *a).await);
    }

    let mut md = String::new();
    let mut ok = true;
    let _ = writeln!(
        md,
        "### {label}\n\n{} pairs looping, {:.1} min of soak after {:.0} s of warm-up ({:.0} s in all). \
         Soak: {} rounds, {} connections opened ({} failed), relays sent {} / received {}, lost {}, crossed {} \
         (warm-up: {} rounds, lost {}, crossed {}).\n",
        args.pairs,
        soak_secs / 60.0,
        args.warmup,
        started.elapsed().as_secs_f64(),
        soak.rounds,
        soak.connections,
        soak.connect_failures,
        soak.relays_sent,
        soak.relays_received,
        soak.lost,
        soak.crossed,
        warm.rounds,
        warm.lost,
        warm.crossed,
    );
    md.push_str("| node | reading | connections | rooms | members | tokio tasks | open fds | threads | RSS KiB |\n|---|---|---|---|---|---|---|---|---|\n");
    for (i, ((f, b), a)) in fresh.iter().zip(&base).zip(&after).enumerate() {
        for (name, r) in [
            ("fresh", f),
            ("after warm-up (baseline)", b),
            ("after soak", a),
        ] {
            let _ = writeln!(
                md,
                "| {} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                r.connections,
                r.rooms,
                r.members,
                r.tasks,
                r.fds,
                r.threads,
                r.rss / 1024
            );
        }
        let mut check = |good: bool, what: String| {
            let _ = writeln!(
                md,
                "{} node {}: {what}",
                if good { "- ok:" } else { "- **FAILED**:" },
                i + 1
            );
            ok &= good;
        };
        check(
            a.connections == 0.0 && a.rooms == 0.0 && a.members == 0.0,
            format!(
                "gauges back to 0 (connections {}, rooms {}, members {})",
                a.connections, a.rooms, a.members
            ),
        );
        check(
            a.fds <= b.fds,
            format!("open fds {} → {} (baseline {})", f.fds, a.fds, b.fds),
        );
        check(
            a.tasks <= b.tasks,
            format!(
                "tokio tasks {} → {} (baseline {})",
                f.tasks, a.tasks, b.tasks
            ),
        );
        if !args.smoke {
            let growth = a.rss as f64 / b.rss.max(1) as f64 - 1.0;
            check(
                growth <= 0.05,
                format!(
                    "RSS {} KiB after vs {} KiB baseline: {:+.1}% (limit +5%)",
                    a.rss / 1024,
                    b.rss / 1024,
                    growth * 100.0
                ),
            );
        }
        md.push('\n');
    }
    let counted = soak.lost == 0 && soak.crossed == 0 && warm.lost == 0 && warm.crossed == 0;
    let _ = writeln!(
        md,
        "{} nothing lost or crossed; every relay sent was received: {}\n",
        if counted { "- ok:" } else { "- **FAILED**:" },
        soak.relays_sent == soak.relays_received
    );
    ok &= counted && soak.relays_sent == soak.relays_received && soak.rounds > 0;
    Outcome { markdown: md, ok }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = Args::parse();
    if args.smoke {
        args.pairs = 100;
        args.minutes = 25.0 / 60.0;
        args.warmup = 5.0;
    }
    let setups: &[bool] = match args.setups.as_str() {
        "one" => &[false],
        "two" => &[true],
        _ => &[false, true],
    };
    let mut doc = format!(
        "## Soak{}\n\nMachine: {} cores; load average before: {}.\n\n",
        if args.smoke { " (smoke)" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    let mut ok = true;
    for &two in setups {
        let o = setup(&args, two).await;
        eprint!("{}", o.markdown);
        doc.push_str(&o.markdown);
        ok &= o.ok;
    }
    let _ = writeln!(
        doc,
        "Load average after: {}. Command: `target/release/duet-soak --pairs {} --minutes {} --warmup {} --candidates {} --pause-ms {} --setups {}`{}",
        loadavg(),
        args.pairs,
        args.minutes,
        args.warmup,
        args.candidates,
        args.pause_ms,
        args.setups,
        if args.smoke { " (via --smoke)" } else { "" }
    );
    println!("{doc}");
    if let Some(out) = &args.out {
        std::fs::write(out, &doc).expect("write results");
    }
    if !ok {
        eprintln!("duet-soak: FAILED (see the readings above)");
        std::process::exit(1);
    }
}
