//! `duet-size`: the bundle size gate. Sums gzip -9 of every html, js, wasm and css file a built
//! frontend holds but the wasm modules it loads after the first frame (what a browser loads
//! before the first frame, measured as bench/RESULTS.md's payload section measures it) and fails when the total is over the budget kept in the repo.
//! Sizes are deterministic, so unlike timings this is a fair CI gate.
//!
//!   duet-size [DIST] [--budget FILE]      defaults: dist, bench/size-budget

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use duet_bench::bundle;

#[derive(Parser)]
#[command(about = "Fails when the built frontend's gzip -9 total is over the budget")]
struct Args {
    /// The built frontend (trunk build --release --offline).
    #[arg(default_value = "dist")]
    dist: PathBuf,
    /// A file holding the budget in bytes (gzip -9 total), one number; `#` starts a comment.
    #[arg(long, default_value = "bench/size-budget")]
    budget: PathBuf,
}

fn budget(text: &str) -> Option<u64> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty())?
        .replace(['_', ','], "")
        .parse()
        .ok()
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(limit) = std::fs::read_to_string(&args.budget)
        .ok()
        .and_then(|t| budget(&t))
    else {
        eprintln!(
            "duet-size: cannot read a budget (a number of bytes) from {}",
            args.budget.display()
        );
        return ExitCode::FAILURE;
    };
    let size = match bundle::measure(&args.dist) {
        Ok(s) if !s.files.is_empty() => s,
        Ok(_) => {
            eprintln!(
                "duet-size: no html/js/wasm/css in {}: build it first (trunk build --release --offline)",
                args.dist.display()
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("duet-size: cannot read {}: {e}", args.dist.display());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "bundle: {} files, {} bytes raw, {} bytes gzip -9 (brotli 11: {}); budget {limit} bytes gzip",
        size.files.len(),
        size.raw,
        size.gzip,
        size.brotli
    );
    if let Some(later) = &size.later {
        println!(
            "loaded after the first frame (not in the budget): {} ({} bytes gzip -9)",
            later.files.join(", "),
            later.gzip
        );
    }
    if size.gzip > limit {
        eprintln!(
            "duet-size: the bundle is {} bytes over its budget of {limit} ({}): find what grew \
             with twiggy (README) and make it smaller, or make the case for a new budget",
            size.gzip - limit,
            args.budget.display()
        );
        return ExitCode::FAILURE;
    }
    println!("{} bytes under budget", limit - size.gzip);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::budget;

    #[test]
    fn reads_the_budget_file() {
        assert_eq!(budget("# bytes\n63_000 # cap\n"), Some(63_000));
        assert_eq!(budget("63000"), Some(63_000));
        assert_eq!(budget("# none\n"), None);
        assert_eq!(budget("lots"), None);
    }
}
