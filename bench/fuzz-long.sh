#!/usr/bin/env bash
# The long fuzzing run: every protocol/fuzz target for RUNS executions (default 10 million) from
# the committed seeds plus whatever corpus earlier runs grew, one target at a time, and a
# Markdown table of executions, time, coverage and findings on stdout.
#
#   bash bench/fuzz-long.sh [RUNS [TARGET...]]   (needs cargo-fuzz: scripts/setup.sh --test)
#
# Naming targets runs only those (to finish a run that an earlier session cut short).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../protocol/fuzz"
runs="${1:-10000000}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(engineio_frame polling_payload socketio_packet client_frames signaling_event server_event)
export RUSTC_BOOTSTRAP=1
cargo fuzz build >&2
echo "| target | executions | seconds | execs/s | coverage (edges) | features | corpus | findings |"
echo "|---|---|---|---|---|---|---|---|"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  start=$SECONDS
  status=0
  cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- -runs="$runs" -print_final_stats=1 >"$log" 2>&1 || status=$?
  took=$((SECONDS - start))
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
  execs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")"
  [[ "$execs" =~ ^[0-9]+$ ]] || execs=0
  cov="$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")"
  ft="$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")"
  corp="$(echo "$last" | grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' | sed 's/corp: //' || echo "?")"
  if [ "$status" -eq 0 ]; then
    findings="none"
  else
    findings="exit $status: $(grep -E 'SUMMARY|panicked at|ERROR:' "$log" | head -n 2 | tr '\n' ' ')"
    cp "$log" "/tmp/fuzz-$target.log"
  fi
  echo "| $target | $execs | $took | $(( execs / (took > 0 ? took : 1) )) | $cov | $ft | $corp | $findings |"
  rm -f "$log"
done
