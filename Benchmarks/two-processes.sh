#!/usr/bin/env bash
# Issue 12's two-process target, side by side in one run: `eventspool run` as a service and
# `eventspool enqueue` of 100,000 conversions from another process, in turns with the official
# Python SDK's in-memory end to end (Reference/pipeline_e2e.py), both against
# Reference/loopback.py's accept-all server. Builds the release `eventspool` and the SDK's
# virtualenv first. About 2 minutes for the default 5 rounds.
# Usage: Benchmarks/two-processes.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
swift build -c release --product eventspool >&2
Benchmarks/Reference/setup.sh >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The lines of `Benchmarks/enqueue.sh` and of PipelineBenchmarks' two-process benchmark.
awk -v n=100000 'BEGIN {
    for (i = 0; i < n; i++)
        printf "{\"op\": \"conversion\", \"user_id\": \"user-%d\", \"event_key\": \"purchase\", \"attributes\": {\"browser\": \"chrome\", \"age\": %d, \"ltv\": 12.5}, \"tags\": {\"revenue\": %d, \"value\": 19.99}}\n", i, i % 90, i
}' > "$work/input.jsonl"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
Benchmarks/Reference/.venv/bin/python Benchmarks/two_processes.py --rounds "$rounds" \
    --eventspool .build/release/eventspool --input "$work/input.jsonl" \
    --datafile Tests/EventSpoolTests/Fixtures/conformance/datafile.json
