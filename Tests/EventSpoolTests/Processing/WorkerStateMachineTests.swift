import Testing
@testable import EventSpool

@Suite("The worker's decisions (spec §5, §7)")
struct WorkerStateMachineTests {
    let now: Int64 = 1_700_000_000_000

    @Test func runningWorkerSendsOnlyClosedOrAgedBatches() {
        let machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        #expect(machine.claimRule(nowMillis: now) == .init(includeOpenBatch: false, openBatchQueuedBeforeMillis: now - 30_000))
    }

    @Test func flushSendsOpenBatchesUntilNothingIsLeft() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush()
        #expect(machine.claimRule(nowMillis: now).includeOpenBatch)
        let result = machine.nothingToClaim()
        #expect(result.completedFlushes.isEmpty && !result.finish)
        #expect(!machine.claimRule(nowMillis: now).includeOpenBatch, "the flush is over")
    }

    @Test func awaitedFlushCompletesOnceItsEventsAreTried() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush(token: 1, lastEventId: 20)
        machine.requestFlush(token: 2, lastEventId: 40)
        #expect(machine.batchClaimed(firstEventId: 11).isEmpty)
        #expect(machine.batchClaimed(firstEventId: 21) == [1])
        #expect(machine.claimRule(nowMillis: now).includeOpenBatch)
        #expect(machine.nothingToClaim().completedFlushes == [2])
    }

    @Test func stopSendsEverythingThenFinishes() {
        var machine = WorkerStateMachine(flushIntervalMillis: 30_000)
        machine.requestFlush(token: 7, lastEventId: 5)
        machine.requestStop(deadlineMillis: now + 5_000)
        #expect(machine.claimRule(nowMillis: now).includeOpenBatch)
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
