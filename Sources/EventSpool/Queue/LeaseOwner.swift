import Foundation

/// Who holds a claimed batch: a host, a process and one queue instance inside it.
///
/// Written into `batches.lease_owner` as `host/pid/start/instance`. Besides waiting for a lease
/// to expire, a queue on the same host may take back at once the batches of a process that is
/// no longer alive (spec §7): after `kill -9`, a restart resumes without waiting. The process
/// start time (from `/proc`) guards against a new process that reuses the pid.
///
/// That recovery is Linux's only: it reads `/proc`. On other systems (macOS, iOS and the rest)
/// no process start time is recorded, nothing counts as certainly exited, and the batches of a
/// dead process wait for their lease to expire (`leaseInterval`, 15 s by default), then go as
/// they were.
struct LeaseOwner: Hashable, Sendable {
    var host: String
    var pid: Int32
    var processStart: String
    var instance: String

    /// The identity of a queue instance opened in this process.
    static func current() -> LeaseOwner {
        let pid = getpid()
        return LeaseOwner(
            host: ProcessInfo.processInfo.hostName,
            pid: pid,
            processStart: processStartTime(pid: pid) ?? "?",
            instance: String(UUID().uuidString.prefix(8)).lowercased()
        )
    }

    /// The text stored in the database.
    var text: String { "\(host)/\(pid)/\(processStart)/\(instance)" }

    /// Parses a stored owner; `nil` for text this library did not write.
    init?(text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, let pid = Int32(parts[1]) else { return nil }
        self.init(host: String(parts[0]), pid: pid, processStart: String(parts[2]), instance: String(parts[3]))
    }

    init(host: String, pid: Int32, processStart: String, instance: String) {
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.instance = instance
    }

    /// Whether this owner is a process on `host` that has certainly exited (so its leases can
    /// be taken back now). Unknown hosts and unreadable process tables count as alive.
    func hasCertainlyExited(onHost currentHost: String) -> Bool {
        #if os(Linux)
        guard host == currentHost, processStart != "?" else { return false }
        guard let start = Self.processStartTime(pid: pid) else {
            // No /proc entry: the process is gone, unless /proc is not mounted at all.
            return FileManager.default.fileExists(atPath: "/proc/self/stat")
        }
        return start != processStart
        #else
        return false
        #endif
    }

    /// Field 22 of `/proc/PID/stat`: the process start time in clock ticks since boot; `nil`
    /// when unknown, and always on systems other than Linux.
    static func processStartTime(pid: Int32) -> String? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may contain spaces) start at field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
        #else
        return nil
        #endif
    }
}
