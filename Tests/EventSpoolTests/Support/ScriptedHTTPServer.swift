import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import EventSpool

/// A loopback HTTP/1.1 server whose every answer a test scripts: what the collector never
/// sends (redirects, long bodies, an answer that never comes). One request per connection,
/// answered with `Connection: close`; blocking sockets on threads of its own.
final class ScriptedHTTPServer: Sendable {
    /// A request as received.
    struct Request: Sendable {
        var method: String
        var path: String
        /// Header fields, names lower-cased.
        var headers: [String: String]
        var body: [UInt8]
    }

    /// What to answer.
    enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [])
        /// Read the request and never answer; the connection stays open until shutdown.
        case hang
    }

    let port: Int
    private let listener: Int32
    private let answer: @Sendable (Request) -> Reply
    private let received = LockedValue<[Request]>([])
    private let waiters = LockedValue<[(count: Int, continuation: CheckedContinuation<Void, Never>)]>([])
    private let openConnections = LockedValue<Set<Int32>>([])

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { received.withLock { $0 } }

    /// Returns once `count` requests have been received.
    func received(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let done = waiters.withLock { waiters in
                if requests.count >= count { return true }
                waiters.append((count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    init(_ answer: @escaping @Sendable (Request) -> Reply) throws {
        self.answer = answer
        (listener, port) = try Sockets.listen(backlog: 16)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Closes the listener and every connection, hanging ones included.
    func shutdown() {
        _ = Glibc.shutdown(listener, Int32(SHUT_RDWR))
        for descriptor in openConnections.withLock({ $0 }) { _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                _ = close(listener)
                return
            }
            openConnections.withLock { _ = $0.insert(connection) }
            Thread { [self] in serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer {
            openConnections.withLock { _ = $0.remove(connection) }
            _ = close(connection)
        }
        guard let request = Self.readRequest(connection) else { return }
        let total = received.withLock { received in
            received.append(request)
            return received.count
        }
        let due = waiters.withLock { waiters in
            defer { waiters.removeAll { $0.count <= total } }
            return waiters.filter { $0.count <= total }.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
        switch answer(request) {
        case .hang:
            var byte: UInt8 = 0
            while recv(connection, &byte, 1, 0) > 0 {}  // until the peer or shutdown closes it
        case .respond(let status, let headers, let body):
            var head = "HTTP/1.1 \(status) Scripted\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            Sockets.sendAll(connection, Array((head + "\r\n").utf8) + body)
        }
    }

    /// Reads one request: the head, then `Content-Length` bytes of body.
    private static func readRequest(_ connection: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = (0..<max(buffer.count - 3, 0)).first(where: { Array(buffer[$0..<$0 + 4]) == separator }) {
                let lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
                let requestLine = lines[0].split(separator: " ")
                guard requestLine.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                while buffer.count < end + 4 + length {
                    let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                    guard count > 0 else { return nil }
                    buffer += chunk[0..<count]
                }
                return Request(
                    method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
                    body: Array(buffer[(end + 4)..<(end + 4 + length)])
                )
            }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            buffer += chunk[0..<count]
        }
    }
}

/// A loopback port where a connection never opens: a listener with a full accept queue
/// (backlog 0, one connection already waiting, never accepted), so Linux drops the next SYN
/// and the client's connect waits.
final class StalledListener: Sendable {
    let port: Int
    private let listener: Int32
    private let filler: Int32

    var url: String { "http://127.0.0.1:\(port)" }

    init() throws {
        (listener, port) = try Sockets.listen(backlog: 0)
        filler = try Sockets.connect(port: port)
    }

    func close() {
        _ = Glibc.close(filler)
        _ = Glibc.close(listener)
    }
}

/// The few socket calls the scripted servers need.
enum Sockets {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A listener on 127.0.0.1 and a free port.
    static func listen(backlog: Int32) throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0, Glibc.listen(descriptor, backlog) == 0 else {
            _ = close(descriptor)
            throw Failure(description: "bind/listen: \(String(cString: strerror(errno)))")
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A connected socket to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            _ = close(descriptor)
            throw Failure(description: "connect: \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    static func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return }
            sent += result
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
