#!/usr/bin/env bash
# Times `eventspool enqueue` end to end on a 100,000-line JSON Lines file (conversions with three
# attributes and two tags) in a release build, and prints the lines per second.
# Usage: Benchmarks/enqueue.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-100000}
swift build -c release --product eventspool >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v n="$lines" 'BEGIN {
    for (i = 0; i < n; i++)
        printf "{\"op\": \"conversion\", \"user_id\": \"user-%d\", \"event_key\": \"purchase\", \"attributes\": {\"browser\": \"chrome\", \"age\": %d, \"ltv\": 12.5}, \"tags\": {\"revenue\": %d, \"value\": 19.99}}\n", i, i % 90, i
}' > "$work/input.jsonl"
start=$(date +%s%N)
.build/release/eventspool enqueue --db "$work/queue.sqlite" \
    --datafile Tests/EventSpoolTests/Fixtures/conformance/datafile.json --input "$work/input.jsonl"
end=$(date +%s%N)
awk -v n="$lines" -v ns=$((end - start)) 'BEGIN { printf "enqueue: %d lines in %.2f s = %.0f lines/s\n", n, ns / 1e9, n / (ns / 1e9) }'
