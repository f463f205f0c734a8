import Foundation

/// Child processes that write durably and say so, killed with SIGKILL at arbitrary moments.
enum KilledWriters {
    /// Runs `rounds` children of `EventSpoolTestHelper` with `arguments`, each printing `ok UUID`
    /// once a write has returned; kills each after it has printed between `lines` lines, and
    /// returns every uuid acknowledged before a kill.
    static func acknowledged(rounds: Int, lines: ClosedRange<Int>, arguments: (Int) -> [String]) async throws -> Set<String> {
        var acknowledged: Set<String> = []
        var generator = SystemRandomNumberGenerator()
        for round in 0..<rounds {
            let child = try ChildProcess("EventSpoolTestHelper", arguments(round))
            // Let it get some way in, then kill it at an arbitrary moment.
            let target = Int.random(in: lines, using: &generator)
            var seen = 0
            while seen < target, let line = await child.readLine() {
                if line.hasPrefix("ok ") { acknowledged.insert(String(line.dropFirst(3))) }
                seen += 1
            }
            child.kill()
            // Whatever it printed before dying had returned.
            while let line = await child.readLine() {
                if line.hasPrefix("ok ") { acknowledged.insert(String(line.dropFirst(3))) }
            }
        }
        return acknowledged
    }
}
