"""What the three reference scripts share: where the fixtures are, the dispatcher that points
the SDK's default `EventDispatcher` at the loopback server, counters of what the SDK reports
through logging (dropped events, failed requests), and the machine-readable result line."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from optimizely.event.log_event import LogEvent
from optimizely.event_dispatcher import EventDispatcher

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
# The project's copy of the conformance fixtures first; the team's shared folder beside the
# repository otherwise (the decision fixtures may not be copied into the project yet).
FIXTURE_ROOTS = [
    REPOSITORY / "Tests" / "EventSpoolTests" / "Fixtures" / "conformance",
    REPOSITORY.parent / "shared" / "conformance",
]


def fixture(relative: str) -> Path:
    """The first of FIXTURE_ROOTS that holds `relative`."""
    for root in FIXTURE_ROOTS:
        if (root / relative).exists():
            return root / relative
    searched = ", ".join(str(root) for root in FIXTURE_ROOTS)
    raise SystemExit(f"{relative} not found under {searched}; pass its location explicitly")


class LoopbackDispatcher:
    """The SDK's default `EventDispatcher`, sending every batch to `url`.

    The default dispatcher posts to the LogEvent's own URL (the Optimizely endpoint, fixed in
    `EventFactory`) and has no setting for another, so each LogEvent is copied with the
    loopback URL and handed to `EventDispatcher.dispatch_event` unchanged: the same
    `requests` session per request, retry adapter, JSON encoding, headers and timeout.
    """

    def __init__(self, url: str) -> None:
        self.url = url

    def dispatch_event(self, log_event: LogEvent) -> None:
        redirected = LogEvent(self.url, log_event.params, log_event.http_verb, log_event.headers)
        EventDispatcher.dispatch_event(redirected)


class LogCounter(logging.Handler):
    """Counts log records whose message contains `text`."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text = text
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.count += 1


def processor_logger(name: str) -> tuple[logging.Logger, LogCounter]:
    """A logger for a `BatchEventProcessor` that counts the events its full queue refused.

    `process()` drops an event when the queue is full and says so only as a warning
    ("Payload not accepted by the queue"). The logger is at WARNING, the level the SDK's own
    default `NoOpLogger` ends up at, so the processor does no more logging work than by default.
    """
    logger = logging.getLogger(f"reference.{name}")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.handlers = []
    drops = LogCounter("Payload not accepted")
    logger.addHandler(drops)
    return logger, drops


def count_failed_dispatches() -> LogCounter:
    """Counts the SDK default dispatcher's failures, which it only logs (on the root logger)."""
    failures = LogCounter("Dispatch event failed")
    logging.getLogger().addHandler(failures)
    return failures


def wait_until(condition, timeout: float, step: float = 0.001) -> bool:
    """Polls `condition` every `step` seconds until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `a/b/c`."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def report(name: str, **figures) -> None:
    """Prints one machine-readable line: `reference NAME key=value …`, flushed at once."""
    fields = " ".join(f"{key}={_format(value)}" for key, value in figures.items())
    print(f"reference {name} {fields}", flush=True)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
