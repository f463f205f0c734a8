import EventSpoolCollector
import Foundation
import Testing
@testable import EventSpool

extension ProofSuite {
    /// Issue 6, part 2: every fault of the collector's plans against a real `BatchEventProcessor`
    /// with `HTTPEventDispatcher` over loopback.
    ///
    /// Knob: `EVENTSPOOL_OUTAGE_SECONDS` (CI 3, long run 30), the length of the endpoint outage.
    @Suite("Proof: dispatch faults")
    struct FaultProof {
        let folder = TemporaryFolder()
        var db: String { folder.file("events.sqlite") }

        static func events(_ range: Range<Int>, group: Int = 1) -> [SerializedEvent] {
            range.map { QueueFixtures.event($0, uuid: Proof.uuid(group, $0)) }
        }

        /// Flushes until nothing is pending or in flight; between flushes, waits to be told of the
        /// next outcome (a retry waiting for its time). `false` if that takes more than `seconds`.
        static func settle(_ processor: BatchEventProcessor, within seconds: Double = 20) async throws -> Bool {
            let posted = PostedNotifications(processor.notificationCenter)
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                try await processor.flushAndWait()
                let told = posted.outcomes.count
                let stats = try processor.queue.stats()
                if stats.pending == 0 && stats.inflight == 0 { return true }
                await posted.waitForOutcomes(told + 1, within: max(0, deadline.timeIntervalSinceNow))
            }
            return false
        }

        @Test(.timeLimit(.minutes(1)), arguments: ["503", "429:1", "timeout", "reset"])
        func aRetryableFaultIsRetriedAndTheSameBytesDelivered(step: String) async throws {
            let collector = try await Collector.start(plan: try FaultPlan(parsing: "\(step),200"))
            let center = EventNotificationCenter()
            let log = NotificationLog(center)
            let (processor, dispatcher) = try Proof.httpProcessor(path: db, endpoint: collector.url, requestTimeout: 1, center: center)
            let events = Self.events(0..<10)
            for event in events { try await processor.process(event) }
            processor.start()
            #expect(try await Self.settle(processor))
            await Proof.stop(processor, dispatcher)

            let requests = await collector.requests
            #expect(requests.count == 2)
            #expect(requests.first?.body == requests.last?.body, "the retry is byte-identical")
            #expect(await collector.acceptedUUIDs == events.map(\.uuid), "delivered once, in order")
            let stats = try processor.queue.stats()
            #expect(stats.sent == 10 && stats.retries == 1 && stats.dead == 0)
            if step.hasPrefix("429") {
                let times = log.dispatchTimes
                #expect(times.count == 2 && times[1].timeIntervalSince(times[0]) >= 0.95, "Retry-After: 1 is waited for")
            }
            try await collector.shutdown()
        }

        @Test(.timeLimit(.minutes(1)))
        func retryAfterIsHonouredOverTheBackoff() async throws {
            let collector = try await Collector.start(plan: try FaultPlan(parsing: "429:2,200"))
            let center = EventNotificationCenter()
            let log = NotificationLog(center)
            let (processor, dispatcher) = try Proof.httpProcessor(
                path: db, endpoint: collector.url, retry: RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 5, maxAge: 3_600), center: center
            )
            try await processor.process(QueueFixtures.event(1))
            processor.start()
            #expect(try await Self.settle(processor))
            await Proof.stop(processor, dispatcher)
            let times = log.dispatchTimes
            try #require(times.count == 2)
            // The backoff alone would wait at most 50 ms.
            #expect(times[1].timeIntervalSince(times[0]) >= 1.95)
            #expect(log.outcomes.first?.outcome.status == 429)
            try await collector.shutdown()
        }

        @Test(.timeLimit(.minutes(1)), arguments: ["400", "413"])
        func aRefusedBatchIsSplitAndBothHalvesDelivered(step: String) async throws {
            let collector = try await Collector.start(plan: try FaultPlan(parsing: "\(step),200"))
            let (processor, dispatcher) = try Proof.httpProcessor(path: db, endpoint: collector.url)
            let events = Self.events(0..<10)
            for event in events { try await processor.process(event) }
            processor.start()
            #expect(try await Self.settle(processor))
            await Proof.stop(processor, dispatcher)
            let requests = await collector.requests
            #expect(requests.map { $0.batch?.uuids.count ?? -1 } == [10, 5, 5])
            #expect(requests.map(\.status) == [Int(step) ?? 0, 200, 200])
            // The two halves go out together (up to four requests at once): each event once, in
            // whichever order their responses come.
            let accepted = await collector.acceptedUUIDs
            #expect(accepted.count == 10 && Set(accepted) == Set(events.map(\.uuid)))
            let stats = try processor.queue.stats()
            #expect(stats.splits == 1 && stats.sent == 10 && stats.dead == 0)
            try await collector.shutdown()
        }

        @Test(.timeLimit(.minutes(3)))
        func anEndpointDownForALongStretchIsRetriedWithCappedBackoffNotAStorm() async throws {
            let port = try await Proof.deadPort()
            let endpoint = try #require(URL(string: "http://127.0.0.1:\(port)/v1/events"))
            let policy = RetryPolicy(baseDelay: 0.05, maxDelay: 0.4, maxAttempts: 100_000, maxAge: 3_600)
            let center = EventNotificationCenter()
            let log = NotificationLog(center)
            let posted = PostedNotifications(center)
            // AsyncHTTPClient keeps trying to connect until the request's deadline, so the request
            // timeout bounds each attempt.
            let (processor, dispatcher) = try Proof.httpProcessor(path: db, endpoint: endpoint, requestTimeout: 0.5, retry: policy, center: center)
            let events = Self.events(0..<5)
            for event in events { try await processor.process(event) }
            processor.start()
            processor.flush()
            let outage = Double(ProofKnob.outageSeconds)
            try await Task.sleep(nanoseconds: UInt64(outage * 1e9))

            // (When other tests hold the machine's threads the worker may have had few turns.)
            #expect(await posted.waitForOutcomes(2, within: 15), "connection refused is retried")
            let outcomes = log.outcomes
            for (at, outcome) in outcomes {
                guard case .retryScheduled(let atMillis) = outcome.result else {
                    Issue.record("an outage is only retried: \(outcome.result)")
                    continue
                }
                #expect(outcome.status == nil)
                let delay = Double(atMillis) / 1000 - at.timeIntervalSince1970
                let bound = min(policy.maxDelay, policy.baseDelay * pow(2, Double(outcome.attempt - 1)))
                #expect(delay <= bound + 0.05, "attempt \(outcome.attempt) waits at most \(bound) s (capped), not \(delay)")
            }
            // Full jitter draws each delay from 0…cap: once capped, the mean gap is cap / 2. A storm
            // (no backoff) would make thousands of attempts; allow three times the expected count.
            let expected = outage / (policy.maxDelay / 2) + 6
            #expect(Double(outcomes.count) <= 3 * expected, "\(outcomes.count) attempts in \(outage) s")
            // Per window of one second, never more than the policy allows on average, times three.
            let start = outcomes.first?.at ?? Date()
            var perSecond: [Int: Int] = [:]
            for (at, _) in outcomes { perSecond[Int(at.timeIntervalSince(start)), default: 0] += 1 }
            let windowBound = Int(3 * (1 / (policy.baseDelay)))  // even before the cap: 20 a second on average at most
            #expect(perSecond.values.allSatisfy { $0 <= windowBound }, "\(perSecond.sorted { $0.key < $1.key })")
            let held = try processor.queue.stats()
            #expect(held.pending + held.inflight == 5 && held.dead == 0, "nothing is lost or dead-lettered while the endpoint is down")

            // The endpoint comes back: the batch goes out within one capped delay.
            let collector = try await Collector.start(port: port)
            #expect(try await Self.settle(processor, within: 10))
            await Proof.stop(processor, dispatcher)
            #expect(await collector.acceptedUUIDs == events.map(\.uuid))
            try await collector.shutdown()
        }

        @Test(.timeLimit(.minutes(1)))
        func aPoisonEventIsIsolatedAndDeadLetteredAlone() async throws {
            let collector = try await Collector.start()
            let (processor, dispatcher) = try Proof.httpProcessor(path: db, endpoint: collector.url)
            let good = Self.events(0..<100)
            // Valid JSON, but no visitor_id: the collector answers 400 to any batch holding it.
            let poisonUUID = Proof.uuid(9, 9)
            let poison = SerializedEvent(
                uuid: poisonUUID, kind: .conversion, userId: "poison", context: QueueFixtures.context,
                visitorJSON: #"{"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "\#(poisonUUID)", "key": "purchase", "timestamp": 1700000000000}]}], "attributes": []}"#,
                timestampMillis: 1_700_000_000_000
            )
            for (index, event) in good.enumerated() {
                if index == 37 { try await processor.process(poison) }
                try await processor.process(event)
            }
            processor.start()
            #expect(try await Self.settle(processor))
            await Proof.stop(processor, dispatcher)

            let dead = try processor.queue.list(state: .dead, limit: nil)
            #expect(dead.map(\.uuid) == [poisonUUID])
            #expect(dead.first?.lastStatus == 400)
            #expect(dead.first?.lastError?.contains("visitor_id") == true, "the reason carries the response body")
            let accepted = await collector.acceptedUUIDs
            #expect(accepted.count == 100 && Set(accepted) == Set(good.map(\.uuid)), "every good event delivered once")
            let refused = await collector.requests.filter { $0.status == 400 }
            #expect(refused.count <= 4, "10 → 5 → 3 → 2 → 1: the poison is cornered in at most four refusals")
            #expect(refused.allSatisfy { String(decoding: $0.body, as: UTF8.self).contains(poisonUUID) })
            try await collector.shutdown()
        }

        @Test(.timeLimit(.minutes(1)))
        func deadLettersCanBeListedRequeuedAndThenDelivered() async throws {
            let collector = try await Collector.start(plan: try FaultPlan(parsing: "400"))
            let (processor, dispatcher) = try Proof.httpProcessor(path: db, endpoint: collector.url, batchSize: 4)
            let events = Self.events(0..<4)
            for event in events { try await processor.process(event) }
            processor.start()
            #expect(try await Self.settle(processor))
            // Halves are due at once, first half first: 4, then 2 and 2 (out together), each split
            // into 1 and 1: seven refusals.
            let sizes = await collector.requests.map { $0.batch?.uuids.count ?? 0 }
            #expect(sizes.first == 4 && sizes.sorted() == [1, 1, 1, 1, 2, 2, 4])

            let listed = try await Proof.eventspool(["list", "--db", db, "--state", "dead", "--json"])
            #expect(listed.status == 0)
            let rows = listed.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(rows.compactMap { $0["uuid"] as? String } == events.map(\.uuid))
            #expect(rows.allSatisfy { $0["last_status"] as? Int == 400 && $0["state"] as? String == "dead" })

            await collector.setPlan(.alwaysNoContent)
            let requeue = try await Proof.eventspool(["requeue", "--db", db])
            #expect(requeue.status == 0, "\(requeue.stderr)")
            #expect(try await Self.settle(processor))
            await Proof.stop(processor, dispatcher)
            #expect(await collector.acceptedUUIDs == events.map(\.uuid))
            let stats = try processor.queue.stats()
            #expect(stats.dead == 0 && stats.sent == 4 && stats.requeued == 4)
            try await collector.shutdown()
        }
    }
}
