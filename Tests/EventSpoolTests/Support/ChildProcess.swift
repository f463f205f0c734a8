import Foundation

/// A built executable of this package run as a child process, its standard output read line
/// by line. Used by the crash tests (which kill it with SIGKILL) and the command tests.
final class ChildProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffer = Data()

    /// The folder holding this package's built products (beside the test bundle).
    static var productsFolder: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    init(_ product: String, _ arguments: [String], input: Data? = nil) throws {
        // A product of this package by name, or any program by absolute path.
        process.executableURL = product.hasPrefix("/") ? URL(fileURLWithPath: product) : Self.productsFolder.appendingPathComponent(product)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        if let input {
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
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            buffer.append(chunk)
        }
    }

    /// Sends SIGKILL and waits for the process to end.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for the end and returns the exit status, all of standard output left, and standard error.
    func finish() -> (status: Int32, stdout: String, stderr: String) {
        var rest = Data(buffer)
        rest.append(output.fileHandleForReading.readDataToEndOfFile())
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: rest, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
