import Testing
@testable import EventSpool

@Suite("The worker's decisions (spec §5, §7)")
struct WorkerStateMachineTests {
    let now: Int64 = 1_700_000_000_000

    @Test func runningWorkerSendsOnlyClosedOrAgedBatches() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        #expect(machine.beginClaim(nowMillis: now) == .init(includeOpenBatch: false, openBatchQueuedBeforeMillis: now - 30_000))
    }

    @Test func flushSendsOpenBatchesUntilNothingIsLeft() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush()
        #expect(machine.beginClaim(nowMillis: now).includeOpenBatch)
        let result = machine.nothingToClaim()
        #expect(result.completedFlushes.isEmpty && !result.finish)
        #expect(!machine.beginClaim(nowMillis: now).includeOpenBatch, "the flush is over")
    }

    @Test func awaitedFlushCompletesOnceItsEventsAreTried() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush(token: 1, lastEventId: 20)
        machine.requestFlush(token: 2, lastEventId: 40)
        _ = machine.beginClaim(nowMillis: now)
        #expect(machine.batchClaimed(firstEventId: 11).isEmpty)
        _ = machine.beginClaim(nowMillis: now)
        #expect(machine.batchClaimed(firstEventId: 21) == [1])
        #expect(machine.beginClaim(nowMillis: now).includeOpenBatch)
        #expect(machine.nothingToClaim().completedFlushes == [2])
    }

    @Test func flushAskedForDuringAnEmptyClaimWaitsForTheNextClaim() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        _ = machine.beginClaim(nowMillis: now)
        // process() appends an event and flush() is awaited while that claim runs...
        machine.requestFlush(token: 1, lastEventId: 1)
        // ...so its empty result says nothing about the new event.
        #expect(machine.nothingToClaim().completedFlushes.isEmpty)
        #expect(machine.beginClaim(nowMillis: now).includeOpenBatch)
        #expect(machine.nothingToClaim().completedFlushes == [1])
    }

    @Test func stopAskedForDuringAnEmptyClaimSendsOpenBatchesFirst() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        _ = machine.beginClaim(nowMillis: now)
        machine.requestStop(deadlineMillis: now + 5_000)
        #expect(!machine.nothingToClaim().finish, "that claim left open batches alone")
        #expect(machine.beginClaim(nowMillis: now).includeOpenBatch)
        #expect(machine.nothingToClaim().finish)
    }

    @Test func stopSendsEverythingThenFinishes() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush(token: 7, lastEventId: 5)
        machine.requestStop(deadlineMillis: now + 5_000)
        #expect(machine.beginClaim(nowMillis: now).includeOpenBatch)
        #expect(!machine.isPastDeadline(nowMillis: now + 4_999))
        #expect(machine.isPastDeadline(nowMillis: now + 5_000))
        let result = machine.nothingToClaim()
        #expect(result.finish && result.completedFlushes == [7])
        #expect(machine.phase == .stopped)
    }

    @Test func stoppingTwiceKeepsTheFirstDeadline() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestStop(deadlineMillis: now + 5_000)
        machine.requestStop(deadlineMillis: now + 50_000)
        #expect(machine.phase == .stopping(deadlineMillis: now + 5_000))
    }

    @Test func finishingEndsEveryAwaitedFlush() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush(token: 1, lastEventId: 5)
        #expect(machine.finished() == [1])
        #expect(machine.phase == .stopped)
    }

    @Test func wakesAtTheEarliestOfAgeRetryAndLease() {
        let machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        let schedule = PendingSchedule(oldestUnbatchedEnqueuedAtMillis: now - 10_000, nextRetryAtMillis: now + 25_000, nextLeaseExpiryMillis: now + 40_000)
        #expect(machine.wakeTime(schedule: schedule, nowMillis: now) == now + 20_000)
        let retrySooner = PendingSchedule(oldestUnbatchedEnqueuedAtMillis: now, nextRetryAtMillis: now + 1_000, nextLeaseExpiryMillis: nil)
        #expect(machine.wakeTime(schedule: retrySooner, nowMillis: now) == now + 1_000)
        #expect(machine.wakeTime(schedule: PendingSchedule(), nowMillis: now) == nil, "nothing pending: sleep until woken")
    }
}
