//! `duet-redis-bench`: relay latency and throughput of two duet-server nodes sharing rooms over
//! Redis, next to one node, in one run on this machine. Each pair has one client on each node
//! (two nodes) or both on the one node; relays are the load generator's timed candidates.
//!
//! ```sh
//! cargo build --release -p duet-server -p duet-bench
//! target/release/duet-redis-bench --out bench/RESULTS-redis.md
//! ```
//! Needs Debian's redis-server; starts it and the nodes on ephemeral loopback ports.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use duet_bench::conn::{self, Conn, Incoming};
use duet_bench::generator::{self, Plan, Report};
use duet_bench::nodes::{loadavg, node, redis};
use duet_protocol::signaling::{ClientMessage, JoinRoom, ServerMessage};

#[derive(Parser, Debug)]
struct Args {
    /// Pairs (rooms) of clients.
    #[arg(long, default_value_t = 500)]
    pairs: usize,
    /// Relay rates to step through, all clients together, per second.
    #[arg(long, value_delimiter = ',', default_value = "1000,4000,8000")]
    rates: Vec<f64>,
    /// Seconds of relaying per step.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The duet-server binary.
    #[arg(long, default_value = "target/release/duet-server")]
    server: PathBuf,
    /// Markdown output (printed too).
    #[arg(long)]
    out: Option<PathBuf>,
}

async fn all_users(c: &mut Conn) -> Result<usize, String> {
    loop {
        match c.rx.recv().await {
            Some(Incoming::Message(ServerMessage::AllUsers(u))) => return Ok(u.len()),
            Some(Incoming::Message(_)) => {}
            Some(Incoming::Closed(r)) => return Err(r),
            None => return Err("gone".into()),
        }
    }
}

/// Pairs with `a` on `first` and `b` on `second`, both joined to their room.
async fn pairs(
    first: SocketAddr,
    second: SocketAddr,
    n: usize,
    prefix: &str,
) -> Vec<(u64, Conn, Conn)> {
    let path = "/socket.io/?EIO=3&transport=websocket";
    let mut out = Vec::new();
    for i in 0..n {
        let mut a = conn::connect(first, None, path).await.expect("connect");
        let mut b = conn::connect(second, None, path).await.expect("connect");
        for (c, email) in [(&mut a, "a@bench"), (&mut b, "b@bench")] {
            c.tx.send(ClientMessage::JoinRoom(JoinRoom {
                room: format!("{prefix}-{i}"),
                email: email.into(),
                warm_offer: false,
            }))
            .expect("send");
            all_users(c).await.expect("joined");
        }
        out.push((i as u64, a, b));
    }
    out
}

async fn step(first: SocketAddr, second: SocketAddr, args: &Args, rate: f64, tag: &str) -> Report {
    let prefix = format!("{tag}-{rate}");
    let ready = pairs(first, second, args.pairs, &prefix).await;
    let plan = Plan {
        server: first,
        path: String::new(),
        sources: Vec::new(),
        pairs: args.pairs,
        room_prefix: prefix,
        setup_candidates: 0,
        rate,
        duration: Duration::from_secs_f64(args.seconds),
        connect_concurrency: 1,
    };
    let mut report = Report::default();
    generator::relay(&plan, ready, &mut report).await;
    report
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let started = Instant::now();
    let load_before = loadavg();
    let mut table = String::from(
        "| setup | offered relays/s | sent | received | achieved relays/s | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for two_nodes in [false, true] {
        let (_redis, url) = if two_nodes {
            let (p, u) = redis();
            (Some(p), Some(u))
        } else {
            (None, None)
        };
        let (_n1, a1) = node(&args.server, url.as_deref());
        let second = two_nodes.then(|| node(&args.server, url.as_deref()));
        let a2 = second.as_ref().map_or(a1, |(_, a)| *a);
        let label = if two_nodes {
            "two nodes over Redis (peers on different nodes)"
        } else {
            "one node"
        };
        for &rate in &args.rates {
            let r = step(a1, a2, &args, rate, if two_nodes { "two" } else { "one" }).await;
            let h = r.histogram();
            let q = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
            let line = format!(
                "| {label} | {rate:.0} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                r.sent,
                r.received,
                r.received as f64 / r.seconds.max(1e-9),
                q(0.5),
                q(0.99),
                q(0.999),
                h.max() as f64 / 1000.0
            );
            eprint!("{line}");
            table.push_str(&line);
        }
    }
    let mut doc = String::new();
    let _ = writeln!(
        doc,
        "# duet-server: one node vs two nodes over Redis\n\n{} pairs ({} clients), {} s of relaying per step, \
         relays are ICE candidates timed from the sender's emit to the peer's receipt. Two nodes: \
         every pair has one client on each node, so every relay crosses Redis pub/sub; both nodes, \
         Redis (Debian redis-server 7) and the generator share this machine's cores. Run in {:.0} s.\n",
        args.pairs,
        2 * args.pairs,
        args.seconds,
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        doc,
        "Machine: {} cores, {}. Load average (1, 5, 15 min) before: {load_before}; after: {} \
         (other work on the machine shares the cores).\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        meminfo(),
        loadavg()
    );
    doc.push_str(&table);
    let _ = writeln!(
        doc,
        "\nCommand: `cargo build --release -p duet-server -p duet-bench && target/release/duet-redis-bench --pairs {} --rates {} --seconds {} --out bench/RESULTS-redis.md`",
        args.pairs,
        args.rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(","),
        args.seconds
    );
    println!("{doc}");
    if let Some(out) = &args.out {
        std::fs::write(out, doc).expect("write results");
    }
}

fn meminfo() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let kb: u64 = m.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.0} GB memory", kb as f64 / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "memory unknown".into())
}
