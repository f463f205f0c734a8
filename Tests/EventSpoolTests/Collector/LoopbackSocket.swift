import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking HTTP/1.1 client over one TCP connection to 127.0.0.1, for tests that need to
/// see what a higher-level client hides: no response at all, a reset, the same connection
/// reused. Its calls block, so tests run them with ``offThread(_:)``.
struct LoopbackSocket: Sendable {
    let descriptor: Int32

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A response: status, headers (names lower-cased) and body.
    struct Response: Sendable, Equatable {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// What a read saw.
    enum Reading: Sendable, Equatable {
        case response(Response)
        /// Nothing arrived before the timeout.
        case timedOut
        /// The peer closed the connection (FIN) before a complete response.
        case closed
        /// The peer reset the connection before a complete response.
        case reset
    }

    static func connect(port: Int) throws -> LoopbackSocket {
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue)
        #else
        let streamType = SOCK_STREAM
        #endif
        let descriptor = socket(AF_INET, streamType, 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                posixConnect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            posixClose(descriptor)
            throw Failure(description: "connect: \(reason)")
        }
        return LoopbackSocket(descriptor: descriptor)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                posixSend(descriptor, buffer.baseAddress.map { $0 + sent }, buffer.count - sent, Int32(MSG_NOSIGNAL))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            sent += result
        }
    }

    /// Sends a request; `Content-Length` is added for the body.
    func sendRequest(method: String = "POST", path: String = "/v1/events", body: [UInt8] = [], headers: [String] = []) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for header in headers { head += header + "\r\n" }
        try send(Array((head + "\r\n").utf8) + body)
    }

    /// Sends a request and reads its response.
    func exchange(method: String = "POST", path: String = "/v1/events", body: [UInt8], timeout: Double = 5) throws -> Reading {
        try sendRequest(method: method, path: path, body: body)
        return readResponse(timeout: timeout)
    }

    /// Reads one response (a 1xx interim one counts), waiting at most `timeout` seconds.
    /// Assumes the server sends nothing past it (no pipelining), so nothing read is lost.
    func readResponse(timeout: Double) -> Reading {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let response = Self.parse(buffer) { return .response(response) }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timedOut }
            let wholeSeconds = Int(remaining)
            let microseconds = Int((remaining - Double(wholeSeconds)) * 1_000_000) + 1
            var limit = timeval()
            limit.tv_sec = wholeSeconds
            limit.tv_usec = .init(microseconds)
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer += chunk[0..<count]
            } else if count == 0 {
                return .closed
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return buffer.isEmpty ? .timedOut : .closed
            } else if errno == ECONNRESET {
                return .reset
            } else if errno != EINTR {
                return .closed
            }
        }
    }

    private static func parse(_ bytes: [UInt8]) -> Response? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0..<max(bytes.count - 3, 0)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else { return nil }
        let lines = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = (100..<200).contains(status) || status == 204 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        return Response(status: status, headers: headers, body: String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self))
    }

    func close() {
        posixClose(descriptor)
    }
}

extension LoopbackSocket.Reading {
    var status: Int? {
        if case .response(let response) = self { return response.status }
        return nil
    }
}

// The system calls under other names: inside `LoopbackSocket` its own methods shadow them.
private func posixConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(descriptor, address, length)
}

private func posixSend(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    send(descriptor, bytes, count, flags)
}

private func posixClose(_ descriptor: Int32) {
    _ = close(descriptor)
}
