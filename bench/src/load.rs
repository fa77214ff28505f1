//! One load step: a fresh server, generator processes with their own loopback source addresses,
//! set-up of every pair, an idle memory reading, a timed relay phase, and the merged report.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::generator::Report;
use crate::servers::{Server, Target};

/// Clients one generator process holds at most (the open-file limit is 20,000 per process).
const CLIENTS_PER_GENERATOR: usize = 9_000;

/// Generator processes per step: enough for [`CLIENTS_PER_GENERATOR`], and at least one per
/// core (each runs a single-threaded runtime), so the client side can use the whole machine.
pub fn generator_count(clients: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    clients
        .div_ceil(CLIENTS_PER_GENERATOR)
        .max(cores)
        .min((clients / 2).max(1))
}

/// What one step measured.
#[derive(Debug)]
pub struct StepResult {
    /// Which server.
    pub target: Target,
    /// Clients asked for.
    pub clients: usize,
    /// Relays per second asked for.
    pub rate: f64,
    /// The generators' merged report.
    pub report: Report,
    /// Server RSS before any client, bytes.
    pub rss_base: u64,
    /// Server RSS with every client connected and joined, idle, bytes.
    pub rss_idle: u64,
    /// Server RSS at the end of the relay phase, bytes.
    pub rss_active: u64,
    /// Server CPU during the relay phase, in cores (1.0 = one core busy).
    pub server_cpu: f64,
    /// Generators' CPU during the relay phase, in cores.
    pub generator_cpu: f64,
    /// CPU used by everything else on the machine during the relay phase, in cores (other
    /// people's builds and tests distort latency; this says how much was running).
    pub other_cpu: f64,
    /// Generator processes used.
    pub generators: usize,
}

impl StepResult {
    /// Idle bytes per connection.
    pub fn idle_bytes_per_conn(&self) -> f64 {
        self.rss_idle.saturating_sub(self.rss_base) as f64 / self.report.connected.max(1) as f64
    }

    /// Bytes per connection at the end of the relay phase.
    pub fn active_bytes_per_conn(&self) -> f64 {
        self.rss_active.saturating_sub(self.rss_base) as f64 / self.report.connected.max(1) as f64
    }

    /// Relays lost.
    pub fn lost(&self) -> u64 {
        self.report.sent.saturating_sub(self.report.received)
    }

    /// Latency percentile in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        let h = self.report.histogram();
        if h.is_empty() {
            return f64::NAN;
        }
        h.value_at_quantile(q) as f64 / 1000.0
    }

    /// Whether the step met the bar: everything connected and set up, the asked rate sent,
    /// nothing lost, nothing crossed rooms, p99 < 10 ms.
    pub fn sustained(&self) -> bool {
        self.correct() && self.latency_ms(0.99) < 10.0 && self.rate_kept()
    }

    /// Whether the server did its job whatever the machine's speed: every client connected and
    /// set up its call, every relay arrived, none crossed rooms. This is what the smoke mode in
    /// CI checks; latency and rate depend on what else the machine runs, so they are reported,
    /// never asserted.
    pub fn correct(&self) -> bool {
        self.report.connect_failures == 0
            && self.report.setup_failures == 0
            && self.lost() == 0
            && self.report.cross_room == 0
    }

    /// Whether the generators sent the asked rate: 97% of rate × seconds, less 5 (the send
    /// times are spread over one period, so a short light step's count is close to but not
    /// exactly that). A generator or server that falls behind skips sends rather than
    /// bursting to catch up.
    pub fn rate_kept(&self) -> bool {
        self.report.sent as f64 >= 0.97 * self.rate * self.report.seconds - 5.0
    }
}

struct Generator {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Drop for Generator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_line(g: &Generator, prefix: &str, timeout: Duration) -> Option<Report> {
    let deadline = Instant::now() + timeout;
    while let Ok(line) = g
        .lines
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if let Some(json) = line.strip_prefix(prefix) {
            return serde_json::from_str(json.trim()).ok();
        }
    }
    None
}

/// Runs one step. `seconds` of relaying at `rate` relays/s across `clients` clients.
pub fn run_step(
    root: &Path,
    target: Target,
    clients: usize,
    rate: f64,
    seconds: f64,
) -> Result<StepResult, String> {
    let server = Server::start(target, root).map_err(|e| e.to_string())?;
    // Let the runtime settle before the baseline reading.
    std::thread::sleep(Duration::from_millis(500));
    let rss_base = server.rss();
    let pairs = clients / 2;
    let generators = generator_count(clients);
    let loadgen = root.join("target/release/duet-loadgen");
    let mut gens = Vec::new();
    for g in 0..generators {
        let share = pairs / generators + usize::from(g < pairs % generators);
        let sources: Vec<String> = (0..4)
            .map(|k| format!("127.0.{}.{}", 1 + g, 10 + k))
            .collect();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 20000 2>/dev/null; exec \"$@\"")
            .arg("sh")
            .arg(&loadgen)
            .args(["--server", &format!("127.0.0.1:{}", server.port)])
            .args(["--pairs", &share.to_string()])
            .args([
                "--rate",
                &(rate * share as f64 / pairs.max(1) as f64).to_string(),
            ])
            .args(["--seconds", &seconds.to_string()])
            .args(["--sources", &sources.join(",")])
            .args(["--room-prefix", &format!("g{g}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (cargo build --release -p duet-bench)",
                    loadgen.display()
                )
            })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        gens.push(Generator {
            child,
            stdin,
            lines,
        });
    }
    let mut report = Report::default();
    for g in &gens {
        let ready = wait_line(g, "READY ", Duration::from_secs(300))
            .ok_or("a generator never got ready")?;
        report.merge(&ready);
    }
    std::thread::sleep(Duration::from_secs(2));
    let rss_idle = server.rss();
    let cpu0 = server.cpu();
    let busy0 = machine_busy();
    let t0 = Instant::now();
    for g in &mut gens {
        writeln!(g.stdin, "GO").map_err(|e| e.to_string())?;
    }
    let mut relay = Report::default();
    for g in &gens {
        let done = wait_line(g, "REPORT ", Duration::from_secs_f64(seconds + 60.0))
            .ok_or("a generator never reported")?;
        // READY counts were already merged; take only the relay phase from REPORT.
        let relay_part = Report {
            connected: 0,
            connect_failures: 0,
            setup_ok: 0,
            setup_failures: 0,
            ..done
        };
        relay.merge(&relay_part);
    }
    let wall = t0.elapsed().as_secs_f64();
    let server_cpu = (server.cpu() - cpu0).as_secs_f64() / wall;
    let generator_cpu = relay.cpu_seconds / wall;
    let other_cpu =
        ((machine_busy() - busy0).as_secs_f64() / wall - server_cpu - generator_cpu).max(0.0);
    let rss_active = server.rss();
    report.merge(&relay);
    Ok(StepResult {
        target,
        clients,
        rate,
        report,
        rss_base,
        rss_idle,
        rss_active,
        server_cpu,
        generator_cpu,
        other_cpu,
        generators,
    })
}

/// CPU time all cores spent busy (not idle or waiting for I/O) since boot, from /proc/stat.
fn machine_busy() -> Duration {
    let ticks = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?;
            let f: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...
            let total: u64 = f.iter().take(8).sum();
            Some(total - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}
