#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and fails on the first crash, panic or timeout.
#
#   fuzz/run.sh [seconds-per-target]        (default 20; CI: fuzz/run.sh 20)
#
# cargo-fuzz needs nightly -Z flags; this repo builds on stable, so RUSTC_BOOTSTRAP=1 lets the
# stable compiler accept them (sanitizer: address, the cargo-fuzz default). Inputs that grow
# coverage go to fuzz/corpus/<target> (not committed); fuzz/seeds/<target> is the committed seed
# corpus. A crash leaves its input in fuzz/artifacts/<target>/ and prints how to reproduce it:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/crash-…
set -euo pipefail

secs="${1:-20}"
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;; esac
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

targets=(callback_query token_response api_response kakao_error id_token view_models)
cargo fuzz build
mkdir -p artifacts/logs
total=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="artifacts/logs/$t.log"
    echo "fuzz: $t for ${secs}s"
    if ! cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz: $t FAILED (input saved under fuzz/artifacts/$t/; log $log)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | tr -dc '0-9')
    echo "fuzz: $t: ok, ${runs:-?} executions in ${secs}s, coverage ${cov:-?} edges, 0 crashes"
    total=$((total + ${runs:-0}))
done
echo "fuzz: ${#targets[@]} targets, $total executions, 0 crashes"
