#!/usr/bin/env bash
# Measures what an idle `eventspool run` costs: the CPU time the service uses over SECONDS on an
# empty queue (it wakes every 100 ms to look for other processes' appends), as a share of one core.
# Usage: Benchmarks/idle-run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build -c release --product eventspool >&2
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
.build/release/eventspool run --db "$work/queue.sqlite" --endpoint http://127.0.0.1:9/v1/events &
pid=$!
sleep 3
# Nanoseconds on a CPU, summed over the process's threads (the scheduler's own accounting).
cpu() { cat /proc/"$pid"/task/*/schedstat | awk '{ sum += $1 } END { printf "%d", sum }'; }
before=$(cpu)
sleep "$seconds"
after=$(cpu)
awk -v ns=$((after - before)) -v s="$seconds" 'BEGIN {
    printf "idle run: %.3f s of CPU in %d s = %.3f%% of one core\n", ns / 1e9, s, 100 * ns / 1e9 / s
}'
