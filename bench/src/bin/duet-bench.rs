//! `duet-bench`: runs Duet's benchmarks side by side with the original stack and writes
//! bench/RESULTS.md. Run it through `bench/run.sh`, which builds everything first.
//!
//! Sections: signaling load (duet-server vs the seed's Node server as it is and room-scoped),
//! payload (Duet's dist/ vs the seed client built for production), codec (criterion's numbers).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use duet_bench::bundle;
use duet_bench::load::{StepResult, run_step};
use duet_bench::servers::Target;

#[derive(Parser, Debug)]
struct Args {
    /// Repository root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Where to write the results.
    #[arg(long, default_value = "bench/RESULTS.md")]
    out: PathBuf,
    /// A quick run with small numbers (what CI runs); writes nothing unless --out is given.
    #[arg(long)]
    smoke: bool,
    /// Client counts for the connection steps.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000,19900")]
    clients: Vec<usize>,
    /// Relay rates (per second) for the rate steps, tried in this order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "2000,5000,7500,10000,15000,20000,25000,30000,40000,50000"
    )]
    rates: Vec<f64>,
    /// Client counts for the rate steps (each gets its own series).
    #[arg(long, value_delimiter = ',', default_value = "2000,10000")]
    rate_clients: Vec<usize>,
    /// Servers to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "duet,room-scoped,seed"
    )]
    targets: Vec<TargetArg>,
    /// Signaling-load steps to run: connection counts, relay rates, or both.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "connections,rates"
    )]
    steps: Vec<StepKind>,
    /// Seconds of relaying per step.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The shell command lines that produced this run, for the report.
    #[arg(long, default_value = "bash bench/run.sh")]
    command: String,
}

/// Consecutive missed rate steps after which a server's series stops.
const MISSES: u32 = 2;

/// A server on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TargetArg {
    /// duet-server.
    Duet,
    /// The seed's server with room-scoped relays (the fair baseline).
    RoomScoped,
    /// The seed's server as it is.
    Seed,
}

impl TargetArg {
    fn target(self) -> Target {
        match self {
            Self::Duet => Target::Duet,
            Self::RoomScoped => Target::NodeRoomScoped,
            Self::Seed => Target::NodeSeed,
        }
    }
}

/// A kind of signaling-load step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StepKind {
    /// Client counts stepped up at a light relay rate.
    Connections,
    /// Relay rates stepped up at fixed client counts.
    Rates,
}

fn main() {
    let mut args = Args::parse();
    if args.smoke {
        args.clients = vec![200];
        args.rates = vec![1000.0];
        args.rate_clients = vec![200];
        args.seconds = 2.0;
    }
    let wants = |t: Target| args.targets.iter().any(|a| a.target() == t);
    let root = args.root.canonicalize().expect("repository root exists");
    let mut md = String::new();
    header(&mut md, &args);

    // Signaling load: connection steps (light relaying), then rate steps until the bar is missed.
    let mut conn_steps = Vec::new();
    if args.steps.contains(&StepKind::Connections) {
        for target in [Target::Duet, Target::NodeRoomScoped] {
            for &n in args.clients.iter().filter(|_| wants(target)) {
                conn_steps.push(step(&root, target, n, n as f64 / 10.0, args.seconds));
            }
        }
        // The seed's server as it is: every relay goes to every client. One small step shows it.
        if let Some(&n) = args.clients.first().filter(|_| wants(Target::NodeSeed)) {
            conn_steps.push(step(
                &root,
                Target::NodeSeed,
                n.min(1000),
                1000.0_f64.min(n as f64),
                args.seconds,
            ));
        }
    }
    // Rate steps: both servers at each rate in turn (so they see the same machine), each
    // until it misses the bar twice in a row (one miss can be a moment of someone else's load
    // on a shared machine; every step is reported).
    let mut rate_series = Vec::new();
    if args.steps.contains(&StepKind::Rates) {
        for &n in &args.rate_clients {
            let mut steps = Vec::new();
            let mut misses: Vec<(Target, u32)> = [Target::Duet, Target::NodeRoomScoped]
                .into_iter()
                .filter(|&t| wants(t))
                .map(|t| (t, 0))
                .collect();
            for &r in &args.rates {
                for (target, missed) in misses.iter_mut().filter(|(_, m)| *m < MISSES) {
                    let s = step(&root, *target, n, r, args.seconds);
                    if s.as_ref().is_some_and(StepResult::sustained) {
                        *missed = 0;
                    } else {
                        *missed += 1;
                    }
                    steps.push(s);
                }
            }
            rate_series.push((n, steps));
        }
    }
    load_section(&mut md, &conn_steps, &rate_series, &args);
    call_setup_section(&mut md, &root);
    payload_section(&mut md, &root);
    codec_section(&mut md, &root);

    if args.smoke && args.out == Path::new("bench/RESULTS.md") {
        println!("{md}");
        // A step that could not run at all (None) fails the smoke run too: the load tool or a
        // server is broken. Node's latency and losses are reported, not asserted.
        let mut steps = conn_steps
            .iter()
            .chain(rate_series.iter().flat_map(|(_, steps)| steps));
        let failed = steps.any(|s| {
            s.as_ref()
                .is_none_or(|s| s.target == Target::Duet && !s.correct())
        });
        if failed {
            eprintln!(
                "duet-bench --smoke: a step could not run, or a duet-server step lost relays, crossed rooms or could not connect"
            );
            std::process::exit(1);
        }
        return;
    }
    let out = root.join(&args.out);
    let old = std::fs::read_to_string(&out).unwrap_or_default();
    std::fs::write(&out, keep_other_sections(&md, &old)).expect("write results");
    println!("wrote {}", out.display());
}

/// `new` followed by the `## ` sections of `old` that `new` does not have (by heading): the
/// soak, fuzzing, network and before/after results other tools and sessions wrote there are
/// not lost to a re-run of these benchmarks.
fn keep_other_sections(new: &str, old: &str) -> String {
    fn sections(md: &str) -> impl Iterator<Item = &str> {
        md.match_indices("\n## ")
            .map(|(i, _)| i + 1)
            .chain([md.len()])
            .scan(None, |start: &mut Option<usize>, end| {
                Some(start.replace(end).map(|s| &md[s..end]))
            })
            .flatten()
    }
    let heading = |s: &str| s.lines().next().unwrap_or_default().trim_end().to_owned();
    let have: Vec<String> = sections(new).map(heading).collect();
    let mut md = new.trim_end().to_owned();
    for kept in sections(old).filter(|s| !have.contains(&heading(s))) {
        md.push_str("\n\n");
        md.push_str(kept.trim_end());
    }
    md.push('\n');
    md
}

fn step(
    root: &Path,
    target: Target,
    clients: usize,
    rate: f64,
    seconds: f64,
) -> Option<StepResult> {
    eprintln!(
        "== {} with {clients} clients at {rate} relays/s",
        target.label()
    );
    match run_step(root, target, clients, rate, seconds) {
        Ok(s) => {
            eprintln!(
                "   connected {} sent {} received {} lost {} cross-room {} p99 {:.2} ms",
                s.report.connected,
                s.report.sent,
                s.report.received,
                s.lost(),
                s.report.cross_room,
                s.latency_ms(0.99)
            );
            Some(s)
        }
        Err(e) => {
            eprintln!("   failed: {e}");
            None
        }
    }
}

fn header(md: &mut String, args: &Args) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))?
                .split(':')
                .nth(1)
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let _ = writeln!(md, "# Duet benchmark results\n");
    let _ = writeln!(md, "- Date: {date}");
    let _ = writeln!(
        md,
        "- Machine: {cores} cores ({cpu}), {mem_gb:.0} GB memory; servers and generators on the same machine over loopback"
    );
    let _ = writeln!(
        md,
        "- Command: `{}`{}",
        args.command,
        if args.smoke { " (smoke mode)" } else { "" }
    );
    let _ = writeln!(
        md,
        "- Relays last {} s per step; a step is *sustained* when every client connected, the generators sent the asked rate (≥ 97%), nothing was lost, no relay crossed rooms and p99 < 10 ms.\n",
        args.seconds
    );
}

fn fmt_ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:.2}")
    }
}

/// One table row; `lead` is an extra first column (the asked rate) when given.
fn row(md: &mut String, s: &Option<StepResult>, lead: Option<String>) {
    let lead = lead.map_or(String::new(), |l| format!(" {l} |"));
    let Some(s) = s else {
        let _ = writeln!(md, "|{lead} failed to run | | | | | | | | | | |");
        return;
    };
    let _ = writeln!(
        md,
        "|{lead} {} | {} / {} | {:.1} / {:.1} KB | {:.0} | {} / {} | {} | {} / {} / {} | {:.0}% | {:.0}% ({}) | {:.0}% | {} |",
        s.target.label(),
        s.report.connected,
        s.clients,
        s.idle_bytes_per_conn() / 1024.0,
        s.active_bytes_per_conn() / 1024.0,
        s.report.received as f64 / s.report.seconds.max(0.001),
        s.lost(),
        s.report.sent,
        s.report.cross_room,
        fmt_ms(s.latency_ms(0.5)),
        fmt_ms(s.latency_ms(0.99)),
        fmt_ms(s.latency_ms(0.999)),
        s.server_cpu * 100.0,
        s.generator_cpu * 100.0,
        s.generators,
        s.other_cpu * 100.0,
        if s.sustained() { "yes" } else { "**no**" }
    );
}

const COLUMNS: &str = "server | connected / asked | RSS per conn idle / active | relays/s received | lost / sent | cross-room | latency ms p50 / p99 / p99.9 | server CPU | generator CPU (processes) | other CPU | sustained |";

/// The largest sustained rate of `target` in `steps`, if any step was sustained.
fn best_rate(steps: &[Option<StepResult>], target: Target) -> Option<f64> {
    steps
        .iter()
        .flatten()
        .filter(|s| s.target == target && s.sustained())
        .map(|s| s.rate)
        .reduce(f64::max)
}

/// Idle RSS per connection of `target` at the largest client count measured.
fn idle_per_conn(steps: &[Option<StepResult>], target: Target) -> Option<(usize, f64)> {
    steps
        .iter()
        .flatten()
        .filter(|s| s.target == target && s.report.connected as usize == s.clients)
        .max_by_key(|s| s.clients)
        .map(|s| (s.clients, s.idle_bytes_per_conn() / 1024.0))
}

fn load_section(
    md: &mut String,
    conn: &[Option<StepResult>],
    rate_series: &[(usize, Vec<Option<StepResult>>)],
    args: &Args,
) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(md, "## 1. Signaling load\n");
    let _ = writeln!(
        md,
        "Pairs of clients (duet-protocol over tokio-tungstenite, `duet-loadgen`) in rooms of two: join → all_users → offer (≈5 KB SDP) → answer → 4 candidates each way, then timestamped candidates relayed at a fixed total rate. Latency is sender emit → partner receipt on one monotonic clock. Generator processes (single-threaded tokio runtimes, at least one per core and at most 9,000 clients each: the open-file limit is 20,000 per process) each with four 127.0.x.y source addresses of their own. CPU is in cores (100% = one core of {cores}); *other CPU* is everything else the machine ran during the step (a build or test of someone else's distorts latency).\n"
    );

    // The targets of issue 6, with this run's figures.
    let _ = writeln!(
        md,
        "### Targets\n\nWhere the bytes per connection and the latency tail come from, and what would close the gaps: [PROFILE.md](PROFILE.md).\n\n| target | duet-server | room-scoped Node | ratio | met |\n|---|---|---|---|---|"
    );
    if let (Some((n, duet)), node) = (
        idle_per_conn(conn, Target::Duet),
        idle_per_conn(conn, Target::NodeRoomScoped),
    ) {
        let (node_s, ratio) = node.map_or(("–".into(), "–".into()), |(_, k)| {
            (format!("{k:.1} KB"), format!("{:.2}", duet / k))
        });
        let _ = writeln!(
            md,
            "| idle RSS per connection ≤ 8 KB, {n} connections | {duet:.1} KB | {node_s} | {ratio} | {} |",
            if duet <= 8.0 && n >= 19_900 {
                "yes"
            } else {
                "**no**"
            }
        );
    }
    for (n, steps) in rate_series {
        let duet = best_rate(steps, Target::Duet);
        let node = best_rate(steps, Target::NodeRoomScoped);
        let fmt = |r: Option<f64>| r.map_or("none".to_owned(), |r| format!("{r:.0}/s"));
        let ratio = match (duet, node) {
            (Some(d), Some(n)) => format!("{:.1}×", d / n),
            _ => "–".into(),
        };
        let met = match (duet, node) {
            (Some(d), Some(n)) if d >= 5.0 * n => "yes",
            _ => "**no**",
        };
        let _ = writeln!(
            md,
            "| sustained relay rate (p99 < 10 ms, none lost) ≥ 5× Node's, {n} clients | {} | {} | {ratio} | {met} |",
            fmt(duet),
            fmt(node)
        );
    }
    md.push('\n');

    if !conn.is_empty() {
        let _ = writeln!(
            md,
            "### Connections (each client relays every 10 s on average)\n\n| {COLUMNS}\n|{}",
            "---|".repeat(11)
        );
        for s in conn {
            row(md, s, None);
        }
        md.push('\n');
    }
    for (n, steps) in rate_series {
        let _ = writeln!(
            md,
            "### Relay rate with {n} clients, stepped up until the bar is missed twice in a row (both servers at each rate in turn)\n\n| asked relays/s | {COLUMNS}\n|{}",
            "---|".repeat(12)
        );
        for s in steps {
            row(
                md,
                s,
                Some(
                    s.as_ref()
                        .map_or("?".to_owned(), |s| format!("{:.0}", s.rate)),
                ),
            );
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "Steps of {} s; rates tried: {}.\n",
        args.seconds,
        args.rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn call_setup_section(md: &mut String, root: &Path) {
    let _ = writeln!(md, "## 2. Call set-up\n");
    let _ = writeln!(
        md,
        "Pairs of headless Chromium pages with fake camera and microphone, both through duet-server on loopback, no ICE servers. Clock: the second page's own (`performance.now()`, 0 = the start of its navigation), to the remote `<video>`'s first frame (`loadeddata`) and to its playback (`playing`). The browser process is started before the clock runs. The floor is what the browser itself needs: one page that asks for the camera and connects two `RTCPeerConnection`s to each other in-page (e2e/src/floor.html), from its script's start to the first remote frame. Duet, seed and floor runs are taken in turn. Measured by `duet-callsetup` (e2e/src/bin).\n"
    );
    let path = root.join("target/callsetup.json");
    let Some(v) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        let _ = writeln!(
            md,
            "Not measured in this run ({} is missing).\n",
            path.display()
        );
        return;
    };
    let calls = v["duet"]["calls"].as_u64().unwrap_or(0);
    let ms = |x: &serde_json::Value| x.as_f64().map_or("–".to_owned(), |x| format!("{x:.0} ms"));
    let _ = writeln!(
        md,
        "| {calls} runs each | Duet | seed client | floor | Duet / seed | Duet / floor |\n|---|---|---|---|---|---|"
    );
    for (stat, q) in [("median", "median_ms"), ("p90", "p90_ms")] {
        let d = &v["duet"]["first_frame"][q];
        let s = &v["seed"]["first_frame"][q];
        let f = &v["floor"]["script_to_first_frame"][q];
        let ratio = |a: &serde_json::Value, b: &serde_json::Value| match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => format!("{:.2}", a / b),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            md,
            "| navigation → first remote frame, {stat} (floor: script start → first frame) | {} | {} | {} | {} | {} |",
            ms(d),
            ms(s),
            ms(f),
            ratio(d, s),
            ratio(d, f)
        );
    }
    let _ = writeln!(
        md,
        "\nPhases of the second page, median (p90) ms on its clock; the floor's from its navigation too. *script*: the app's own code running (Duet: `duet:wasm-start`; seed: its `io.connect` call; floor: its script); *socket open*: the WebSocket's open event (the seed starts with XHR polling: its Engine.IO handshake instead); *offer*, *answer*: sent or received, whichever first.\n"
    );
    let _ = writeln!(
        md,
        "| phase | Duet | seed client | floor |\n|---|---|---|---|"
    );
    for (label, key, seed_key) in [
        ("script running", "script", "script"),
        ("socket open", "socketOpen", "eioOpen"),
        ("connected (`40`)", "connected", "connected"),
        ("join sent", "joinSent", "joinSent"),
        ("all_users", "allUsers", "allUsers"),
        ("offer", "offer", "offer"),
        ("answer", "answer", "answer"),
        ("ICE connected", "iceConnected", "iceConnected"),
        ("first remote frame", "firstFrame", "firstFrame"),
        ("playing", "playing", "playing"),
    ] {
        let cell = |who: &str, k: &str| {
            let p = &v[who]["phases"][k];
            match (p["median_ms"].as_f64(), p["p90_ms"].as_f64()) {
                (Some(m), Some(p90)) => format!("{m:.0} ({p90:.0})"),
                _ => "–".to_owned(),
            }
        };
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} |",
            cell("duet", key),
            cell("seed", seed_key),
            cell("floor", key)
        );
    }
    duet_steps(md, &v);
    md.push('\n');
}

/// Duet's own steps between the phases, in time order: when its code had arrived (`load:*`,
/// from resource timing) and its `performance.mark`s (`duet:*`), so the time left is explained.
fn duet_steps(md: &mut String, v: &serde_json::Value) {
    let Some(marks) = v["duet"]["marks"].as_object() else {
        return;
    };
    let mut steps: Vec<(f64, f64, &str)> = marks
        .iter()
        .filter_map(|(k, s)| Some((s["median_ms"].as_f64()?, s["p90_ms"].as_f64()?, k.as_str())))
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let _ = writeln!(
        md,
        "\nDuet's own steps, median (p90) ms on the same clock: `load:` when the page's files had arrived (resource timing), `duet:` the app's marks.\n\n| step | Duet |\n|---|---|"
    );
    for (median, p90, name) in steps {
        let _ = writeln!(md, "| `{name}` | {median:.0} ({p90:.0}) |");
    }
}

fn payload_section(md: &mut String, root: &Path) {
    let _ = writeln!(md, "## 3. Payload\n");
    let _ = writeln!(
        md,
        "Every html, js, wasm and css byte a browser downloads before the first frame. Duet: `bash scripts/bundle.sh` (`trunk build --release`, wasm-opt -Os, std rebuilt with immediate-abort panics, the JS glue minified, the panels split off into a module loaded after the first frame). Seed: the original React client (React 17 + ReactDOM + socket.io-client 2.3.0) bundled and minified with esbuild for production (`bench/seed-bundle`).\n"
    );
    let duet = bundle::measure(&root.join("dist"));
    let seed = bundle::measure(&root.join("bench/seed-bundle/dist"));
    match (duet, seed) {
        (Ok(d), Ok(s)) => {
            let _ = writeln!(md, "| | Duet | seed | ratio |\n|---|---|---|---|");
            for (name, a, b) in [
                ("raw", d.raw, s.raw),
                ("gzip -9", d.gzip, s.gzip),
                ("brotli 11", d.brotli, s.brotli),
            ] {
                let _ = writeln!(
                    md,
                    "| {name} | {:.1} KB | {:.1} KB | {:.2} |",
                    a as f64 / 1024.0,
                    b as f64 / 1024.0,
                    a as f64 / b.max(1) as f64
                );
            }
            let _ = writeln!(
                md,
                "\nDuet's files: {}. Seed's files: {}.\n",
                d.files.join(", "),
                s.files.join(", ")
            );
            if let Some(later) = &d.later {
                let _ = writeln!(
                    md,
                    "Duet loads after the first remote frame (not counted above): {}, {:.1} KB gzip -9, {:.1} KB brotli 11.\n",
                    later.files.join(", "),
                    later.gzip as f64 / 1024.0,
                    later.brotli as f64 / 1024.0
                );
            }
        }
        (d, s) => {
            let _ = writeln!(
                md,
                "Not measured: dist/ {} / seed bundle {}.\n",
                d.map_or_else(|e| e.to_string(), |_| "ok".into()),
                s.map_or_else(|e| e.to_string(), |_| "ok".into())
            );
        }
    }
    // Where the bytes go (twiggy, by hand: bench/BYTES.md says how it was measured).
    if let Ok(text) = std::fs::read_to_string(root.join("bench/BYTES.md")) {
        md.push_str(&text);
        md.push('\n');
    }
}

fn codec_section(md: &mut String, root: &Path) {
    let _ = writeln!(md, "## 4. Codec\n");
    let _ = writeln!(
        md,
        "criterion (`cargo bench -p duet-bench --bench codec`): encode = typed message → WebSocket frame; decode = frame → typed message. Means.\n"
    );
    let _ = writeln!(md, "| frame | encode | decode |\n|---|---|---|");
    let read = |group: &str, f: &str| -> Option<f64> {
        let p = root.join(format!("target/criterion/{group}/{f}/new/estimates.json"));
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        v["mean"]["point_estimate"].as_f64()
    };
    let fmt = |ns: Option<f64>| match ns {
        Some(ns) if ns >= 1000.0 => format!("{:.2} µs", ns / 1000.0),
        Some(ns) => format!("{ns:.0} ns"),
        None => "not run".into(),
    };
    for (label, group) in [
        ("SDP offer (≈5 KB)", "offer"),
        ("ICE candidate", "candidate"),
        ("ping", "ping"),
    ] {
        let _ = writeln!(
            md,
            "| {label} | {} | {} |",
            fmt(read(group, "encode")),
            fmt(read(group, "decode"))
        );
    }
    let _ = writeln!(
        md,
        "| client state machine: receive a candidate event | | {} |\n",
        fmt(read("client", "receive_candidate"))
    );
}

#[cfg(test)]
mod tests {
    use super::keep_other_sections;

    #[test]
    fn a_rerun_keeps_the_sections_it_does_not_write() {
        let old = "# R\n\n- Date: old\n\n## 1. Load\n\nold load\n\n## Issue 15: before\n\nmem\n\n## 5. Soak\n\nsoak\n";
        let new = "# R\n\n- Date: new\n\n## 1. Load\n\nnew load\n";
        assert_eq!(
            keep_other_sections(new, old),
            "# R\n\n- Date: new\n\n## 1. Load\n\nnew load\n\n## Issue 15: before\n\nmem\n\n## 5. Soak\n\nsoak\n"
        );
        assert_eq!(keep_other_sections(new, ""), new);
        assert_eq!(keep_other_sections(new, new), new);
    }
}
