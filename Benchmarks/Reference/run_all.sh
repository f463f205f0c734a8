#!/usr/bin/env bash
# Sets up the virtualenv, runs the three reference measurements of the official Python SDK
# (optimizely-sdk 5.7.0) on loopback, and prints their figures as a table.
# Takes about 1.5 minutes. DECIDE_SECONDS (default 15) sets the replay time of each decide mode.
# Usage: Benchmarks/Reference/run_all.sh            (each script's own options: --help)
set -uo pipefail
cd "$(dirname "$0")"
./setup.sh >&2 || exit 1
python=.venv/bin/python
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
status=0

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
    echo "== $*" >&2
    "$python" "$@" | tee -a "$lines" || status=1
}
run pipeline_e2e.py
run pipeline_e2e.py --queue-capacity 1000   # the SDK's default queue: how many it drops
run pipeline_rtt.py
run decide_throughput.py --seconds "${DECIDE_SECONDS:-15}"

echo
awk '
function field(name,    i, pair) {
    for (i = 3; i <= NF; i++) { split($i, pair, "="); if (pair[1] == name) return pair[2] }
    return ""
}
BEGIN { printf "%-48s %16s  %s\n", "reference (optimizely-sdk 5.7.0)", "figure", "detail" }
$2 == "pipeline_e2e" {
    name = field("queue_capacity") == 1000 ? "pipeline_e2e, SDK default queue of 1,000" : "pipeline_e2e (batch size 100)"
    printf "%-48s %8s events/s  delivered %s, dropped %s, %s s\n", name, field("events_per_second"),
        field("delivered"), field("dropped"), field("seconds")
}
$2 == "pipeline_rtt" {
    printf "%-48s %8s events/s  %s requests, %s ms a request\n", "pipeline_rtt (50 ms round trip, batch size 10)",
        field("events_per_second"), field("requests"), field("ms_per_request")
}
$2 == "decide" {
    printf "%-48s %8s calls/s   %s calls, %s events (%s expected), dropped %s\n", "decide, " field("mode"),
        field("calls_per_second"), field("calls"), field("events"), field("events_expected"), field("dropped")
}
$2 == "decide_verify" { verified += field("matching"); calls += field("calls") }
END { printf "%-48s %16s  %d of %d fixture calls as the fixtures say\n", "decide replay checked", "", verified, calls }
' "$lines"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
