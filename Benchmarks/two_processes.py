"""Two processes against the official Python SDK, side by side, in turns, in one run.

Issue 12's target: `eventspool run` as a service and `eventspool enqueue` of 100,000 conversions
from another process, sending to an accept-all endpoint, at least 5 times the Python SDK's
in-memory end to end (`Reference/pipeline_e2e.py`), measured in one run. The machines here are
shared and their figures move by half within minutes, so each round runs the SDK once and
EventSpool `--runs` times, and the summary compares the medians of the whole run.

Both sides send to the same kind of server: `Reference/loopback.py`'s accept-all server, in a
process of its own, which counts the events it has acknowledged. EventSpool's figure is
events/s from the start of `enqueue` until the server has acknowledged every line (`run` was
started on a new queue just before and is idle until then).

Run it through `Benchmarks/two-processes.sh`, which builds the release `eventspool`, sets up
the SDK's virtualenv and makes the input. It prints a line per measurement and a summary:
`two_processes eventspool_median=N sdk_median=N ratio=R rounds=N`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "Reference"
sys.path.insert(0, str(REFERENCE))

from loopback import start_server  # noqa: E402  (Reference/ is on the path only now)


def eventspool_once(binary: str, server, input_path: str, datafile: str, lines: int, timeout: float) -> float:
    """One measurement: `run` on a new queue, `enqueue` of the input from another process."""
    work = tempfile.mkdtemp(prefix="eventspool-two-processes-")
    queue = os.path.join(work, "queue.sqlite")
    run = subprocess.Popen([binary, "run", "--db", queue, "--endpoint", server.url, "--batch-size", "100"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # `run` has opened the queue once its log exists; a moment more for its worker to start.
        deadline = time.monotonic() + timeout
        while not os.path.exists(queue + "-wal"):
            if run.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"eventspool run did not open {queue} (exit status {run.poll()})")
            time.sleep(0.01)
        time.sleep(0.3)
        base = server.events
        started = time.monotonic()
        enqueue = subprocess.run([binary, "enqueue", "--db", queue, "--datafile", datafile, "--input", input_path],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if enqueue.returncode != 0:
            raise RuntimeError(f"eventspool enqueue failed: {enqueue.stderr.strip()}")
        deadline = time.monotonic() + timeout
        while server.events - base < lines:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {server.events - base} of {lines} events acknowledged within {timeout} s")
            time.sleep(0.002)
        return lines / (time.monotonic() - started)
    finally:
        run.terminate()
        run.wait()
        shutil.rmtree(work, ignore_errors=True)


def sdk_once(python: str, timeout: float) -> float:
    """One run of the SDK's `pipeline_e2e.py`: its events/s."""
    result = subprocess.run([python, "pipeline_e2e.py", "--timeout", str(timeout)], cwd=REFERENCE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = re.search(r"events_per_second=(\d+)", result.stdout)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"pipeline_e2e.py failed (exit status {result.returncode}): {result.stdout.strip()}")
    return float(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eventspool", required=True, help="the release eventspool binary")
    parser.add_argument("--input", required=True, help="JSON Lines of conversions for enqueue")
    parser.add_argument("--datafile", required=True, help="the datafile the lines are built against")
    parser.add_argument("--python", default=str(REFERENCE / ".venv" / "bin" / "python"),
                        help="the interpreter that has the SDK (Reference/setup.sh makes it)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="EventSpool measurements a round")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    with open(args.input) as lines_file:
        lines = sum(1 for line in lines_file if line.strip())
    ours: list[float] = []
    sdk: list[float] = []
    server = start_server()
    try:
        for round_number in range(1, args.rounds + 1):
            sdk.append(sdk_once(args.python, args.timeout))
            print(f"{time.strftime('%H:%M:%S')} round {round_number} SDK in memory: {sdk[-1]:,.0f} events/s", flush=True)
            for _ in range(args.runs):
                ours.append(eventspool_once(args.eventspool, server, args.input, args.datafile, lines, args.timeout))
                print(f"{time.strftime('%H:%M:%S')} round {round_number} eventspool, two processes: {ours[-1]:,.0f} events/s "
                      f"({ours[-1] / sdk[-1]:.1f}x this round's SDK run)", flush=True)
        sdk.append(sdk_once(args.python, args.timeout))
        print(f"{time.strftime('%H:%M:%S')} after the last round, SDK in memory: {sdk[-1]:,.0f} events/s", flush=True)
    finally:
        server.stop()

    ratio = statistics.median(ours) / statistics.median(sdk)
    print(f"EventSpool {min(ours):,.0f}-{max(ours):,.0f} events/s (median {statistics.median(ours):,.0f}); "
          f"SDK {min(sdk):,.0f}-{max(sdk):,.0f} (median {statistics.median(sdk):,.0f}); medians: {ratio:.1f}x "
          f"(the issue asks 5x); slowest EventSpool run against the fastest SDK run: {min(ours) / max(sdk):.1f}x")
    print(f"two_processes eventspool_median={statistics.median(ours):.0f} sdk_median={statistics.median(sdk):.0f} "
          f"ratio={ratio:.2f} rounds={args.rounds} load_average={' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
