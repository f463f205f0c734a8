"""Reference: the Python SDK's BatchEventProcessor against a 50 ms round trip.

The loopback server answers every request 50 ms after it has read it. The processor has
batch size 10 and every other setting as by default (flush interval 30 s, queue of 1,000,
timeout interval 5 s) and sends through the SDK's default `EventDispatcher` (see
`common.LoopbackDispatcher`), one request at a time as its single consumer thread does.

A producer keeps the processor's queue supplied without overfilling it: it processes a
conversion whenever the queue holds fewer than 1,000 events and waits 5 ms otherwise, so the
processor always has a full batch ready and no event is dropped (a drop would still be
counted and reported). The figure is events/s from the first `process()` until the server
has acknowledged all `--events` conversions (2,000 by default, about 10 s at the expected
~190 events/s); only events the server counted in the bodies it answered count.

Prints `reference pipeline_rtt events_per_second=N …`.
"""

from __future__ import annotations

import argparse
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
from pipeline_e2e import ATTRIBUTES, TAGS

QUEUE_CAPACITY = 1_000  # BatchEventProcessor's default queue size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.050, help="the server's answer delay in seconds")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--datafile", default=None)
    args = parser.parse_args()

    datafile = open(args.datafile or fixture("datafile.json")).read()
    config = ProjectConfig(datafile, sdk_logging.adapt_logger(sdk_logging.NoOpLogger()), NoOpErrorHandler)
    server = start_server(delay=args.delay)
    failures = count_failed_dispatches()
    logger, drops = processor_logger("pipeline_rtt")
    # Only the batch size is set: the queue, flush and timeout intervals are the SDK's defaults.
    processor = BatchEventProcessor(LoopbackDispatcher(server.url), logger=logger, batch_size=args.batch_size)
    load_before = load_average()

    started = time.perf_counter()
    processor.start()
    index = 0
    deadline = started + args.timeout
    while index < args.events and time.perf_counter() < deadline:
        if processor.event_queue.qsize() >= QUEUE_CAPACITY:
            time.sleep(0.005)
            continue
        processor.process(UserEventFactory.create_conversion_event(
            config, "purchase", f"user-{index}", ATTRIBUTES, TAGS))
        index += 1
    processor.flush()  # a last partial batch, when --events is no multiple of the batch size
    accepted = index - drops.count
    complete = index == args.events and wait_until(
        lambda: server.events >= accepted, max(0.0, deadline - time.perf_counter()))
    done = time.perf_counter()

    delivered, requests = server.events, server.requests
    processor.stop()
    server.stop()

    seconds = done - started
    print(f"pipeline_rtt: {delivered:,} of {args.events:,} conversions acknowledged in {seconds:.2f} s "
          f"in {requests:,} requests ({seconds / max(requests, 1) * 1000:.1f} ms a request, "
          f"{args.delay * 1000:.0f} ms of it the server's delay); {drops.count} dropped, "
          f"{failures.count} failed requests", file=sys.stderr)
    report("pipeline_rtt", events_per_second=delivered / seconds, delivered=delivered, dropped=drops.count,
           failed_requests=failures.count, seconds=seconds, requests=requests,
           ms_per_request=seconds / max(requests, 1) * 1000, delay_ms=args.delay * 1000,
           batch_size=args.batch_size, complete=str(complete).lower(),
           load_before=load_before, load_after=load_average())
    return 0 if complete and failures.count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
