import Foundation

/// A built executable of this package run as a child process, its standard output read line
/// by line. Used by the crash tests (which kill it with SIGKILL) and the command tests.
///
/// Reading and waiting block, so they run on a Dispatch thread while the test awaits them: a
/// test blocking one of the few threads of Swift's cooperative pool would stall every other
/// test running beside it (and their timing).
///
/// `@unchecked Sendable`: one test drives a child, one call at a time (each awaited), so the
/// buffer is never touched by two threads at once.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffer = Data()
    private var errorBuffer = Data()

    /// The folder holding this package's built products (beside the test bundle).
    static var productsFolder: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The writing end of standard input, for a child started with `keepingInputOpen`.
    let inputWriter: FileHandle?

    /// Starts `product` with `arguments`. Standard input is `input` (then its end) when given;
    /// with `keepingInputOpen`, a pipe the test writes to through ``inputWriter`` and closes when it
    /// is done; otherwise empty.
    init(_ product: String, _ arguments: [String], input: Data? = nil, keepingInputOpen: Bool = false) throws {
        // A product of this package by name, or any program by absolute path.
        process.executableURL = product.hasPrefix("/") ? URL(fileURLWithPath: product) : Self.productsFolder.appendingPathComponent(product)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        let pipe = keepingInputOpen ? Pipe() : nil
        self.inputWriter = pipe?.fileHandleForWriting
        if let pipe {
            process.standardInput = pipe
            try process.run()
        } else if let input {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(input)
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
    }

    /// The next line of standard output, or `nil` at its end.
    func readLine() async -> String? {
        await offThePool { Self.readLineBlocking(from: self.output, buffer: &self.buffer) }
    }

    /// The next line of standard output, or `nil` when none came within `seconds` (then the
    /// child is killed) or the output ended.
    func readLine(within seconds: Double) async -> String? {
        await killedUnless(within: seconds) { await self.readLine() } ?? nil
    }

    /// The next line of standard error, or `nil` when none came within `seconds` (then the
    /// child is killed) or the output ended.
    func readErrorLine(within seconds: Double) async -> String? {
        await killedUnless(within: seconds) { await self.readErrorLine() } ?? nil
    }

    /// The next line of standard error, or `nil` at its end.
    func readErrorLine() async -> String? {
        await offThePool { Self.readLineBlocking(from: self.errors, buffer: &self.errorBuffer) }
    }

    /// Waits for the end and returns the exit status, all of standard output left, and standard
    /// error left (what ``readErrorLine()`` has not read).
    func finish() async -> (status: Int32, stdout: String, stderr: String) {
        await offThePool { self.finishBlocking() }
    }


    /// The next line of `pipe`, read through `buffer` (which keeps what follows it).
    private static func readLineBlocking(from pipe: Pipe, buffer: inout Data) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            buffer.append(chunk)
        }
    }

    /// Waits at most `seconds` for the process to end by itself; kills it then. Returns whether
    /// it ended by itself.
    func exits(within seconds: Double) async -> Bool {
        await killedUnless(within: seconds) { await offThePool { self.process.waitUntilExit() } } != nil
    }

    /// What `wait` returns, or `nil` when it has not returned within `seconds`: then the child is
    /// killed, which ends the wait (its output closes, it exits). The bound only stops a hung
    /// child; a wait that ends returns at once.
    private func killedUnless<T: Sendable>(within seconds: Double, _ wait: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await wait() }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { await offThePool { self.kill() } }
            group.cancelAll()
            return first
        }
    }

    /// Sends SIGKILL and waits for the process to end.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private func finishBlocking() -> (status: Int32, stdout: String, stderr: String) {
        var rest = Data(buffer)
        rest.append(output.fileHandleForReading.readDataToEndOfFile())
        var stderr = errorBuffer
        stderr.append(errors.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: rest, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

/// Runs blocking `body` on a thread of its own and waits for it without holding one of Swift
/// concurrency's few threads (two on a two-core machine): a test that waits for a child process,
/// or makes blocking calls in a loop, must not starve the tasks running beside it.
func offThePool<T>(_ body: @escaping () -> T) async -> T {
    let work = UncheckedBox(body)
    return await withCheckedContinuation { (continuation: CheckedContinuation<UncheckedBox<T>, Never>) in
        Thread.detachNewThread { continuation.resume(returning: UncheckedBox(work.value())) }
    }.value
}

/// ``offThePool(_:)`` for blocking work that throws.
func offThread<T>(_ body: @escaping () throws -> T) async throws -> T {
    try await offThePool { Result { try body() } }.get()
}

/// Carries a value that is not `Sendable` across one hand-over: safe where the value is used by
/// one thread at a time, as in ``offThePool(_:)`` (the body runs once on the new thread, and its
/// result is handed back only after it has finished).
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
