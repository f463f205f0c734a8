"""Reference: the Python SDK's decide throughput on the conformance fixtures' calls.

For each decision fixture (example, generated1 … generated6) an `Optimizely(datafile=…,
event_processor=BatchEventProcessor(…), user_profile_service=…)` client is built, with an
in-memory user profile service where the input has `user_profiles`. Its processor is the
SDK's in-memory `BatchEventProcessor` (batch size 10, its default, and an unbounded queue so
that nothing is dropped); its dispatcher (`--dispatch none`, the default) accepts each batch
without a network: it encodes the body with `json.dumps`, as the SDK's default dispatcher
does before posting, and counts the events. `--dispatch server` sends the batches through the
SDK's default dispatcher to the accept-all loopback server instead.

A pass replays every call of every fixture in order (911 calls), each on its fixture's
client, with the semantics of `eventspool decide` (../../../shared/spec/cli.md): forced
variations, forced decisions (kept per user id and applied to that user's later decide
calls) and user profiles live across the calls of a pass; after each pass they are put back
as the fixture starts (forced variations cleared with `set_forced_variation(…, None)`,
forced decisions dropped, profiles reset), so every pass makes the same decisions and events.
Passes repeat for `--seconds`; then every processor is stopped, which waits until it has
dispatched every event. calls/s = calls replayed / (time of the passes + that drain).

Mode `events` replays the calls as they are; mode `no_decision_events` adds
`DISABLE_DECISION_EVENT` to every decide, decide_for_keys and decide_all call (activate and
track still make their events, as in the SDK).

Before timing, one pass on separate clients with a recording processor is checked against
the fixtures' expected results (reasons left out) and event kinds: this shows the replay
calls the SDK as the fixtures did.

Prints `reference decide mode=… calls_per_second=N …`, per-fixture lines
`reference decide_fixture …` (time of that fixture's calls within the passes), and
`reference decide_verify …`.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
from pathlib import Path

from optimizely.decision.optimizely_decide_option import OptimizelyDecideOption
from optimizely.event.event_processor import BaseEventProcessor, BatchEventProcessor
from optimizely.optimizely import Optimizely
from optimizely.optimizely_user_context import OptimizelyUserContext
from optimizely.user_profile import UserProfileService

from common import LoopbackDispatcher, fixture, load_average, processor_logger, report
from loopback import start_server

FIXTURES = ["example"] + [f"generated{index}" for index in range(1, 7)]
DECIDE_FAMILY = {"decide", "decide_for_keys", "decide_all"}
DecisionContext = OptimizelyUserContext.OptimizelyDecisionContext
ForcedDecision = OptimizelyUserContext.OptimizelyForcedDecision


def decode(value):
    """Unwraps the fixtures' `{"$float": "nan"}` and `{"$int": "…"}` values."""
    if isinstance(value, dict):
        if len(value) == 1 and "$float" in value:
            return float(value["$float"])
        if len(value) == 1 and "$int" in value:
            return int(value["$int"])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


class InMemoryProfiles(UserProfileService):
    """A user profile service over a dict, starting from the fixture's `user_profiles`."""

    def __init__(self, initial: dict) -> None:
        self.initial = initial
        self.reset()

    def reset(self) -> None:
        self.profiles = {user: _copy_profile(profile) for user, profile in self.initial.items()}

    def lookup(self, user_id: str):
        profile = self.profiles.get(user_id)
        return _copy_profile(profile) if profile is not None else None

    def save(self, user_profile: dict) -> None:
        self.profiles[user_profile["user_id"]] = _copy_profile(user_profile)


def _copy_profile(profile: dict) -> dict:
    buckets = profile.get("experiment_bucket_map", {})
    return {"user_id": profile["user_id"],
            "experiment_bucket_map": {experiment: dict(entry) for experiment, entry in buckets.items()}}


class CountingDispatcher:
    """Accepts each batch without a network: encodes it as the default dispatcher would, counts it."""

    def __init__(self) -> None:
        self.events = 0

    def dispatch_event(self, log_event) -> None:
        json.dumps(log_event.params)
        self.events += len(log_event.params["visitors"])


class RecordingProcessor(BaseEventProcessor):
    """Keeps the kind of each user event, for the check against the fixtures."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def process(self, user_event) -> None:
        self.kinds.append(type(user_event).__name__.removesuffix("Event").lower())


class Replay:
    """One fixture's calls on one client, and the state a pass of them builds up."""

    def __init__(self, name: str, folder: Path, processor: BaseEventProcessor, extra_options: list[str]) -> None:
        self.name = name
        self.processor = processor
        spec = json.loads((folder / f"{name}.input.json").read_text())
        datafile = (folder / spec["datafile"]).read_text()
        self.profiles = InMemoryProfiles(spec["user_profiles"]) if "user_profiles" in spec else None
        self.client = Optimizely(datafile=datafile, event_processor=processor, user_profile_service=self.profiles)
        self.calls = [decode(call) for call in spec["calls"]]
        for call in self.calls:
            if call["op"] in DECIDE_FAMILY:
                call["options"] = list(call.get("options") or []) + extra_options
        self.steps = [(getattr(self, "_" + call["op"]), call) for call in self.calls]
        self.expected = [json.loads(line) for line in (folder / f"{name}.expected.jsonl").read_text().splitlines() if line]
        self.forced_decisions: dict[str, OptimizelyUserContext] = {}
        self.forced_variations: set[tuple[str, str]] = set()

    def run_pass(self) -> list:
        """Replays every call, then puts the state back as the fixture starts. Returns the results."""
        results = [step(call) for step, call in self.steps]
        for experiment_key, user_id in self.forced_variations:
            self.client.set_forced_variation(experiment_key, user_id, None)
        self.forced_variations.clear()
        self.forced_decisions.clear()
        if self.profiles is not None:
            self.profiles.reset()
        return results

    # A decide call's user context: the call's attributes and the user's forced decisions.
    def _context(self, call: dict):
        context = self.client.create_user_context(call["user_id"], call.get("attributes"))
        holder = self.forced_decisions.get(call["user_id"])
        if context is not None and holder is not None:
            for decision_context, forced in list(holder.forced_decisions_map.items()):
                context.set_forced_decision(decision_context, forced)
        return context

    def _holder(self, user_id: str) -> OptimizelyUserContext:
        if user_id not in self.forced_decisions:
            self.forced_decisions[user_id] = self.client.create_user_context(user_id)
        return self.forced_decisions[user_id]

    def _decide(self, call):
        context = self._context(call)
        return context and context.decide(call["flag_key"], call["options"])

    def _decide_for_keys(self, call):
        context = self._context(call)
        return context and context.decide_for_keys(call["flag_keys"], call["options"])

    def _decide_all(self, call):
        context = self._context(call)
        return context and context.decide_all(call["options"])

    def _activate(self, call):
        return self.client.activate(call["experiment_key"], call["user_id"], call.get("attributes"))

    def _get_variation(self, call):
        return self.client.get_variation(call["experiment_key"], call["user_id"], call.get("attributes"))

    def _track(self, call):
        return self.client.track(call["event_key"], call["user_id"], call.get("attributes"), call.get("event_tags"))

    def _is_feature_enabled(self, call):
        return self.client.is_feature_enabled(call["feature_key"], call["user_id"], call.get("attributes"))

    def _get_enabled_features(self, call):
        return self.client.get_enabled_features(call["user_id"], call.get("attributes"))

    def _get_all_feature_variables(self, call):
        return self.client.get_all_feature_variables(call["feature_key"], call["user_id"], call.get("attributes"))

    def _set_forced_variation(self, call):
        self.forced_variations.add((call["experiment_key"], call["user_id"]))
        return self.client.set_forced_variation(call["experiment_key"], call["user_id"], call.get("variation_key"))

    def _get_forced_variation(self, call):
        return self.client.get_forced_variation(call["experiment_key"], call["user_id"])

    def _set_forced_decision(self, call):
        return self._holder(call["user_id"]).set_forced_decision(
            DecisionContext(call["flag_key"], call.get("rule_key")), ForcedDecision(call["variation_key"]))

    def _remove_forced_decision(self, call):
        return self._holder(call["user_id"]).remove_forced_decision(
            DecisionContext(call["flag_key"], call.get("rule_key")))

    def _remove_all_forced_decisions(self, call):
        return self._holder(call["user_id"]).remove_all_forced_decisions()


def describe(op: str, value):
    """A call's result in the shape of `eventspool decide`'s table, reasons left out."""
    def decision(d):
        return {"flag_key": d.flag_key, "enabled": d.enabled, "variation_key": d.variation_key,
                "rule_key": d.rule_key, "variables": d.variables}
    if op == "decide":
        return decision(value)
    if op in ("decide_for_keys", "decide_all"):
        return {"keys": list(value), "decisions": {key: decision(d) for key, d in value.items()}}
    key = {"activate": "variation_key", "get_variation": "variation_key", "get_forced_variation": "variation_key",
           "is_feature_enabled": "enabled", "get_enabled_features": "features",
           "get_all_feature_variables": "values"}.get(op, "returned")
    return {key: value}


def without_reasons(result):
    if isinstance(result, dict):
        return {key: without_reasons(value) for key, value in result.items() if key != "reasons"}
    return result


def verify(name: str, folder: Path) -> tuple[int, int]:
    """Replays a fixture once and counts the calls whose result and event kinds match it."""
    recorder = RecordingProcessor()
    replay = Replay(name, folder, recorder, [])
    matching = 0
    for (step, call), want in zip(replay.steps, replay.expected):
        before = len(recorder.kinds)
        got = describe(call["op"], step(call))
        kinds = recorder.kinds[before:]
        if without_reasons(got) == without_reasons(want["result"]) and kinds == [e["kind"] for e in want["events"]]:
            matching += 1
        else:
            print(f"decide_verify {name} call {want['call']} ({call['op']}) differs: {got} {kinds}", file=sys.stderr)
    replay.client.close()
    return matching, len(replay.expected)


def measure(mode: str, folder: Path, seconds: float, dispatch: str, batch_size: int) -> bool:
    """Replays the fixtures for `seconds` in `mode`, reports, and says whether every event was dispatched."""
    extra = [OptimizelyDecideOption.DISABLE_DECISION_EVENT] if mode == "no_decision_events" else []
    server = start_server() if dispatch == "server" else None
    counters, replays, drop_counters = [], [], []
    for name in FIXTURES:
        dispatcher = LoopbackDispatcher(server.url) if server else CountingDispatcher()
        logger, drops = processor_logger(f"decide.{mode}.{name}")
        processor = BatchEventProcessor(dispatcher, logger=logger, event_queue=queue.Queue(),
                                        batch_size=batch_size, timeout_interval=60, start_on_init=True)
        replays.append(Replay(name, folder, processor, extra))
        counters.append(dispatcher)
        drop_counters.append(drops)
    # The events one pass makes, by the fixtures: all of them, or those of calls outside the decide family.
    per_pass = sum(len(want["events"]) for replay in replays for want in replay.expected
                   if not (extra and want["op"] in DECIDE_FAMILY))
    per_fixture = {replay.name: 0.0 for replay in replays}
    calls, passes = 0, 0
    load_before = load_average()
    cpu_before = time.process_time()

    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for replay in replays:
            fixture_started = time.perf_counter()
            replay.run_pass()
            per_fixture[replay.name] += time.perf_counter() - fixture_started
            calls += len(replay.calls)
        passes += 1
    passes_done = time.perf_counter()
    for replay in replays:
        replay.processor.stop()  # returns once the queue is drained and the last batch dispatched
    done = time.perf_counter()

    events = server.events if server else sum(counter.events for counter in counters)
    dropped = sum(drops.count for drops in drop_counters)
    cpu = time.process_time() - cpu_before
    for replay in replays:
        replay.client.close()
    if server:
        server.stop()
    total = done - started
    print(f"decide {mode}: {passes} passes, {calls:,} calls in {total:.2f} s ({done - passes_done:.2f} s of it "
          f"draining the processors), {events:,} events dispatched of {per_pass * passes:,} expected, "
          f"{dropped} dropped", file=sys.stderr)
    report("decide", mode=mode, calls_per_second=calls / total, calls=calls, passes=passes, seconds=total,
           drain_seconds=done - passes_done, events=events, events_expected=per_pass * passes,
           events_per_second=events / total, dropped=dropped, dispatch=dispatch, batch_size=batch_size,
           cpu_client_s=cpu, load_before=load_before, load_after=load_average())
    for replay in replays:
        report("decide_fixture", mode=mode, fixture=replay.name,
               calls_per_second=len(replay.calls) * passes / per_fixture[replay.name],
               calls=len(replay.calls) * passes)
    return events == per_pass * passes and dropped == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="replay time of each mode")
    parser.add_argument("--dispatch", choices=["none", "server"], default="none")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--modes", default="events,no_decision_events")
    parser.add_argument("--fixtures", type=Path, default=None, help="the folder of the decision fixtures")
    args = parser.parse_args()
    folder = args.fixtures or fixture("decisions")

    all_match = True
    for name in FIXTURES:
        matching, count = verify(name, folder)
        all_match &= matching == count
        report("decide_verify", fixture=name, calls=count, matching=matching)
    all_sent = True
    for mode in args.modes.split(","):
        if mode not in ("events", "no_decision_events"):
            parser.error(f"unknown mode {mode!r}: the modes are events and no_decision_events")
        all_sent &= measure(mode, folder, args.seconds, args.dispatch, args.batch_size)
    return 0 if all_match and all_sent else 1


if __name__ == "__main__":
    sys.exit(main())
