//! `duet-loadgen`: one signaling load generator process. The orchestrator (`duet-bench`) starts
//! several, each with its own loopback source addresses, because one process may hold at most
//! 20,000 open files here.
//!
//! Protocol with the orchestrator, one line each on stdout/stdin:
//! `READY {report}` after every pair is set up; then it waits for `GO` on stdin; then
//! `REPORT {report}` after the relay phase.

use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use duet_bench::generator::{self, Plan, Report};

/// Pairs of Socket.IO 2.x clients in rooms of two: set-up like a call, then timed relays.
#[derive(Parser, Debug)]
struct Args {
    /// The signaling server, host:port.
    #[arg(long)]
    server: SocketAddr,
    /// Pairs (rooms) to run.
    #[arg(long)]
    pairs: usize,
    /// Relays per second, all clients of this process together.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds of relaying.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Candidates each side trickles during set-up.
    #[arg(long, default_value_t = 4)]
    setup_candidates: usize,
    /// Loopback source addresses, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<IpAddr>,
    /// Prefix of this process's room names.
    #[arg(long, default_value = "bench")]
    room_prefix: String,
    /// Connections opened at once.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Runtime worker threads; 1 runs a single-threaded runtime (no cross-thread wake-ups:
    /// the orchestrator starts several processes instead).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print, on stderr, how many relays took over 10 ms per 100 ms of send time.
    #[arg(long)]
    timeline: bool,
    /// Start relaying without waiting for GO on stdin.
    #[arg(long)]
    no_wait: bool,
}

fn main() {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    runtime.block_on(async {
        let plan = Plan {
            server: args.server,
            path: "/socket.io/?EIO=3&transport=websocket".into(),
            sources: args.sources.clone(),
            pairs: args.pairs,
            room_prefix: args.room_prefix.clone(),
            setup_candidates: args.setup_candidates,
            rate: args.rate,
            duration: Duration::from_secs_f64(args.seconds),
            connect_concurrency: args.connect_concurrency,
        };
        let mut report = Report::default();
        let pairs = generator::setup(&plan, &mut report).await;
        println!(
            "READY {}",
            serde_json::to_string(&report).expect("report serializes")
        );
        if !args.no_wait {
            let go = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map(|_| line)
            })
            .await;
            if !matches!(go, Ok(Ok(ref l)) if l.trim() == "GO") {
                eprintln!("duet-loadgen: no GO on stdin; stopping");
                return;
            }
        }
        let mut relay_report = Report::default();
        let cpu0 = duet_bench::servers::proc_cpu(std::process::id());
        generator::relay(&plan, pairs, &mut relay_report).await;
        relay_report.cpu_seconds =
            (duet_bench::servers::proc_cpu(std::process::id()) - cpu0).as_secs_f64();
        let h = relay_report.histogram();
        let q = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        eprintln!(
            "duet-loadgen {}: {} clients, sent {} received {} ms p50 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}, cpu {:.2} s",
            args.room_prefix,
            report.connected,
            relay_report.sent,
            relay_report.received,
            q(0.5),
            q(0.99),
            q(0.999),
            h.max() as f64 / 1000.0,
            relay_report.cpu_seconds
        );
        if args.timeline {
            let windows: Vec<String> = relay_report
                .slow_timeline
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(w, n)| {
                    let ms = w as u128 * generator::TIMELINE_WINDOW.as_millis();
                    format!("{ms}ms:{n}")
                })
                .collect();
            eprintln!("duet-loadgen {}: slow (>10 ms) by send time: {}", args.room_prefix, windows.join(" "));
        }
        report.merge(&relay_report);
        println!(
            "REPORT {}",
            serde_json::to_string(&report).expect("report serializes")
        );
    });
}
