import Dispatch
import Testing
@testable import EventSpool

/// How a connection waits for another connection's write lock (`setBusyTimeout`): it keeps
/// trying while the lock is held, for at least its timeout, and then reports `SQLITE_BUSY`.
@Suite("Waiting for another connection's lock")
struct SQLiteBusyTests {
    let folder = TemporaryFolder()

    /// A new WAL file with one table, and a connection to it that holds its write lock.
    func lockedFile() throws -> (path: String, holder: SQLiteConnection) {
        let path = folder.file("busy.sqlite")
        let holder = try SQLiteConnection(path: path, readOnly: false, create: true)
        _ = try holder.queryOne("PRAGMA journal_mode = WAL") { $0.text(0) }
        try holder.execute("CREATE TABLE notes (text TEXT NOT NULL)")
        try holder.execute("BEGIN IMMEDIATE")
        return (path, holder)
    }

    @Test func aWriterKeptWaitingTakesTheLockOnceItIsReleased() throws {
        let (path, holder) = try lockedFile()
        let writing = DispatchSemaphore(value: 0)
        let written = DispatchSemaphore(value: 0)
        let outcome = LockedValue<Result<Void, SQLiteError>?>(nil)
        // The waiter is a connection of its own on another thread, as another process's is.
        DispatchQueue.global().async {
            let result = Result { () throws(SQLiteError) in
                let waiter = try SQLiteConnection(path: path, readOnly: false, create: false)
                waiter.setBusyTimeout(milliseconds: 60_000)
                writing.signal()
                try waiter.execute("BEGIN IMMEDIATE; INSERT INTO notes VALUES ('waited'); COMMIT")
            }
            outcome.withLock { $0 = result }
            written.signal()
        }
        writing.wait()
        try holder.execute("INSERT INTO notes VALUES ('held'); COMMIT")
        written.wait()
        #expect(throws: Never.self) { try outcome.withLock { $0 }?.get() }
        #expect(try holder.query("SELECT text FROM notes ORDER BY rowid") { $0.text(0) } == ["held", "waited"])
    }

    @Test(arguments: [Int32(0), 30])
    func aWriterGivesUpWithBusyWhenTheLockOutlastsItsTimeout(_ milliseconds: Int32) throws {
        let (path, holder) = try lockedFile()
        let waiter = try SQLiteConnection(path: path, readOnly: false, create: false)
        waiter.setBusyTimeout(milliseconds: milliseconds)
        let started = DispatchTime.now().uptimeNanoseconds
        let error = #expect(throws: SQLiteError.self) { try waiter.execute("BEGIN IMMEDIATE") }
        #expect(error?.isBusy == true)
        // Not before its timeout, measured by the clock.
        #expect(DispatchTime.now().uptimeNanoseconds - started >= UInt64(milliseconds) * 1_000_000)
        try holder.execute("COMMIT")
        try waiter.execute("BEGIN IMMEDIATE; COMMIT")
    }

    @Test func theFirstTriesComeEvery250MicrosecondsThenAboutATenthOfTheWaitApart() {
        let ms: UInt64 = 1_000_000
        let timeout = 5_000 * ms
        #expect(BusyWait.pause(afterWaiting: 0, timeoutNanos: timeout) == 250_000)
        #expect(BusyWait.pause(afterWaiting: 9 * ms, timeoutNanos: timeout) == 250_000)
        #expect(BusyWait.pause(afterWaiting: 10 * ms, timeoutNanos: timeout) == 1 * ms)
        #expect(BusyWait.pause(afterWaiting: 50 * ms, timeoutNanos: timeout) == 5 * ms)
        #expect(BusyWait.pause(afterWaiting: 2_000 * ms, timeoutNanos: timeout) == 10 * ms)
    }

    @Test func theLastPauseEndsAtTheTimeoutAndThenTheWaitGivesUp() {
        let ms: UInt64 = 1_000_000
        #expect(BusyWait.pause(afterWaiting: 4_995 * ms, timeoutNanos: 5_000 * ms) == 5 * ms)
        #expect(BusyWait.pause(afterWaiting: 5_000 * ms, timeoutNanos: 5_000 * ms) == nil)
        #expect(BusyWait.pause(afterWaiting: 0, timeoutNanos: 0) == nil)
    }

    /// A wait for the whole default timeout (5 s), in virtual time: about 550 tries, where a
    /// steady 250 µs poll makes 20,000.
    @Test func aLongWaitTriesAFewHundredTimesNotThousands() {
        let timeout: UInt64 = 5_000_000_000
        var waited: UInt64 = 0
        var tries = 0
        while let pause = BusyWait.pause(afterWaiting: waited, timeoutNanos: timeout) {
            waited += pause
            tries += 1
        }
        #expect(waited == timeout)
        #expect(tries > 500 && tries < 600)
    }

    /// A stopping worker interrupts its queue's lock waits at its deadline: a wait with a long
    /// timeout then gives up at once.
    @Test func anInterruptedWaitGivesUpAtOnce() throws {
        let (path, holder) = try lockedFile()
        let lockWaits = LockWaits()
        let waiter = try SQLiteConnection(path: path, readOnly: false, create: false)
        waiter.setBusyTimeout(milliseconds: 60_000, lockWaits: lockWaits)
        lockWaits.interrupt(round: lockWaits.round)
        let error = #expect(throws: SQLiteError.self) { try waiter.execute("BEGIN IMMEDIATE") }
        #expect(error?.isBusy == true)
        lockWaits.resume()
        try holder.execute("COMMIT")
        try waiter.execute("BEGIN IMMEDIATE; COMMIT")
    }

    @Test func anInterruptionAskedForBeforeAResumeIsIgnored() {
        let lockWaits = LockWaits()
        let round = lockWaits.round
        lockWaits.resume()
        lockWaits.interrupt(round: round)
        #expect(!lockWaits.areInterrupted)
        lockWaits.interrupt(round: lockWaits.round)
        #expect(lockWaits.areInterrupted)
    }
}
