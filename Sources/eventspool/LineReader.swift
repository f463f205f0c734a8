import Foundation

/// Reads a file or standard input as lines of bytes, up to a megabyte at a time, so a large input
/// never has to fit in memory. A final line without a newline counts; `\r\n` ends a line too.
///
/// A read takes what the input has: from a pipe whose writer is slow, that may be a single line.
/// Before a read that would wait for more input, `beforeWaiting` is called, so that a command
/// finishes what it has (`enqueue` commits its lines, `decide` writes its answers) instead of
/// holding it until a megabyte or the end arrives. A file never waits: it is read in whole
/// megabytes, and `beforeWaiting` is never called.
struct LineReader {
    /// The most a read takes.
    static let chunkBytes = 1 << 20

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false

    init(handle: FileHandle) {
        self.handle = handle
    }

    /// A reader of the file at `path`, or of standard input when `path` is absent or `-`.
    ///
    /// - Throws: ``LineReaderError`` naming the path when it cannot be opened or is a folder,
    ///   before anything else is done (no queue file is made for an input that cannot be read).
    init(input path: String?) throws(LineReaderError) {
        guard let path, path != "-" else {
            self.init(handle: FileHandle.standardInput)
            return
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw LineReaderError(description: "the input \(path) is a folder: give a JSON Lines file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LineReaderError(description: "cannot read the input \(path): check the path")
        }
        self.init(handle: handle)
    }

    /// Calls `body` with each line (without its line ending) and its 1-based number, and
    /// `beforeWaiting` before each read that would wait for the input's writer.
    mutating func forEachLine(
        _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void,
        beforeWaiting: () throws -> Void = {}
    ) throws {
        var number = 0
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                number += 1
                var end = newline
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end]), number) }
                start = newline + 1
                continue
            }
            if finished {
                if start < buffer.count {
                    number += 1
                    try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start...]), number) }
                }
                return
            }
            buffer.removeFirst(start)
            start = 0
            if !inputIsReady() { try beforeWaiting() }
            if try readChunk() == 0 { finished = true }
        }
    }

    /// Whether a read would return at once: there is input, its end, or an error to report.
    private func inputIsReady() -> Bool {
        var request = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&request, 1, 0) != 0
    }

    /// Appends what one read returns (at most ``chunkBytes``) to the buffer; 0 at the end.
    private mutating func readChunk() throws -> Int {
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.chunkBytes))
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes in
                read(handle.fileDescriptor, bytes.baseAddress! + old, Self.chunkBytes)
            }
            if count >= 0 {
                buffer.removeLast(Self.chunkBytes - count)
                return count
            }
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            buffer.removeLast(Self.chunkBytes)
            throw LineReaderError(description: "cannot read the input: \(reason)")
        }
    }
}

/// The input cannot be opened or read (the message names the path or the system's reason).
struct LineReaderError: Error, CustomStringConvertible {
    let description: String
}
