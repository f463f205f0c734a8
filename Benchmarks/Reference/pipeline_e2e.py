"""Reference: the Python SDK's in-memory BatchEventProcessor, end to end.

100,000 conversions (event `purchase` of the conformance datafile, three attributes and two
tags, as the Swift PipelineBenchmarks build) are built with the SDK's
`UserEventFactory.create_conversion_event` and handed to a running `BatchEventProcessor`
(batch size 100, the rest as by default) in groups of 1,000. It sends them through the SDK's
default `EventDispatcher` (see `common.LoopbackDispatcher`) to an accept-all loopback server
in another process. The figure is events/s from just before `start()` and the first
`process()` until the server has acknowledged every event the processor accepted; only
events the server counted in the bodies it answered count as delivered.

The SDK's queue holds 1,000 events by default and `process()` drops an event when it is full
(a warning, nothing else), so the queue is sized to hold them all unless
`--queue-capacity` says otherwise; the dropped events are counted and reported either way.

Prints `reference pipeline_e2e events_per_second=N delivered=N dropped=N …` and exits 1 when
not every accepted event was delivered within `--timeout` seconds.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time

from optimizely import logger as sdk_logging
from optimizely.error_handler import NoOpErrorHandler
from optimizely.event.event_processor import BatchEventProcessor
from optimizely.event.user_event_factory import UserEventFactory
from optimizely.project_config import ProjectConfig

from common import (LoopbackDispatcher, count_failed_dispatches, fixture, load_average,
                    processor_logger, report, wait_until)
from loopback import start_server

ATTRIBUTES = {"browser": "chrome", "age": 31, "ltv": 12.5}
TAGS = {"revenue": 1999, "value": 19.99}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--group", type=int, default=1_000, help="conversions built before they are processed")
    parser.add_argument("--queue-capacity", type=int, default=None,
                        help="the processor's queue size (default: --events, so none is dropped; "
                             "1000 is the SDK's default)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--datafile", default=None)
    args = parser.parse_args()

    datafile = open(args.datafile or fixture("datafile.json")).read()
    config = ProjectConfig(datafile, sdk_logging.adapt_logger(sdk_logging.NoOpLogger()), NoOpErrorHandler)
    capacity = args.queue_capacity or args.events
    server = start_server()
    failures = count_failed_dispatches()
    logger, drops = processor_logger("pipeline_e2e")
    processor = BatchEventProcessor(
        LoopbackDispatcher(server.url), logger=logger,
        event_queue=queue.Queue(maxsize=capacity), batch_size=args.batch_size,
    )
    load_before = load_average()
    cpu_before, server_cpu_before = time.process_time(), server.cpu_seconds()

    started = time.perf_counter()
    processor.start()
    for first in range(0, args.events, args.group):
        group = [
            UserEventFactory.create_conversion_event(config, "purchase", f"user-{index}", ATTRIBUTES, TAGS)
            for index in range(first, min(first + args.group, args.events))
        ]
        for event in group:
            processor.process(event)
    processor.flush()  # a last partial batch, when events were dropped or --events is no multiple
    queued = time.perf_counter()
    sent_while_queueing = server.events
    accepted = args.events - drops.count
    complete = wait_until(lambda: server.events >= accepted, args.timeout)
    done = time.perf_counter()

    delivered = server.events
    cpu = time.process_time() - cpu_before
    server_cpu = server.cpu_seconds() - server_cpu_before
    processor.stop()
    server.stop()

    seconds = done - started
    print(f"pipeline_e2e: {args.events:,} conversions processed after {queued - started:.2f} s "
          f"({sent_while_queueing:,} acknowledged by then), {delivered:,} acknowledged after {seconds:.2f} s "
          f"in {server.requests:,} requests; {drops.count:,} dropped by the full queue (capacity {capacity:,}), "
          f"{failures.count} failed requests", file=sys.stderr)
    report("pipeline_e2e", events_per_second=delivered / seconds, delivered=delivered, dropped=drops.count,
           failed_requests=failures.count, seconds=seconds, queued_seconds=queued - started,
           batch_size=args.batch_size, queue_capacity=capacity, complete=str(complete).lower(),
           cpu_client_s=cpu, cpu_server_s=server_cpu, load_before=load_before, load_after=load_average())
    return 0 if complete and failures.count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
