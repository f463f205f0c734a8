#!/usr/bin/env bash
# Measures what an idle `eventspool run` costs: the CPU time the service uses over SECONDS on an
# empty queue (it wakes every 100 ms to look for other processes' appends), as a share of one core.
# With --locked, what a waiting `run` costs instead: the queue holds an event to send, and a
# `sqlite3` session holds the file's write lock the whole time, so the worker waits for it
# (tries, backs off, retries) rather than idles. Needs the sqlite3 command-line tool.
# Usage: Benchmarks/idle-run.sh [SECONDS] [--locked]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
locked=${2:-}
swift build -c release --product eventspool >&2
work=$(mktemp -d)
pid=
holder=
trap 'kill $pid $holder 2>/dev/null || true; rm -rf "$work"' EXIT
if [ "$locked" = --locked ]; then
    echo '{"op": "conversion", "user_id": "alice", "event_key": "purchase"}' |
        .build/release/eventspool enqueue --db "$work/queue.sqlite" \
            --datafile Tests/EventSpoolTests/Fixtures/conformance/datafile.json >&2
    # The session reads its commands from a pipe this script keeps open: it takes the write lock
    # and keeps it until the script ends (and with it the pipe).
    mkfifo "$work/session"
    sqlite3 "$work/queue.sqlite" < "$work/session" &
    holder=$!
    exec 3> "$work/session"
    echo "BEGIN IMMEDIATE;" >&3
    sleep 1
fi
.build/release/eventspool run --db "$work/queue.sqlite" --endpoint http://127.0.0.1:9/v1/events &
pid=$!
sleep 3
# Nanoseconds on a CPU, summed over the process's threads (the scheduler's own accounting).
cpu() { cat /proc/"$pid"/task/*/schedstat | awk '{ sum += $1 } END { printf "%d", sum }'; }
before=$(cpu)
sleep "$seconds"
after=$(cpu)
label="idle run"
[ -n "$locked" ] && label="run waiting for a held lock"
awk -v ns=$((after - before)) -v s="$seconds" -v label="$label" 'BEGIN {
    printf "%s: %.3f s of CPU in %d s = %.3f%% of one core\n", label, ns / 1e9, s, 100 * ns / 1e9 / s
}'
