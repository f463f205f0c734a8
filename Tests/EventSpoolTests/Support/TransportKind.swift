import EventSpoolAsyncHTTPClient
import Testing
@testable import EventSpool

/// The two transports of EventSpool, for tests that every transport must pass alike.
enum TransportKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case urlSession
    case asyncHTTPClient

    var testDescription: String { rawValue }

    /// A new transport of this kind, and how to shut it down.
    func make(connectTimeout: Duration = .seconds(2)) -> MadeTransport {
        switch self {
        case .urlSession:
            let transport = URLSessionTransport(configuration: .init(connectTimeout: connectTimeout))
            return MadeTransport(transport: transport) { transport.shutdown() }
        case .asyncHTTPClient:
            let transport = AsyncHTTPClientTransport(configuration: .init(connectTimeout: connectTimeout))
            return MadeTransport(transport: transport) { try? await transport.shutdown() }
        }
    }
}

/// A transport a test made, with its shutdown.
struct MadeTransport: Sendable {
    let transport: any HTTPTransport
    let shutdown: @Sendable () async -> Void

    /// A dispatcher on this transport with `configure`'s settings.
    func dispatcher(_ configure: (inout HTTPEventDispatcher.Configuration) -> Void = { _ in }) throws -> HTTPEventDispatcher {
        var configuration = HTTPEventDispatcher.Configuration()
        configure(&configuration)
        return try HTTPEventDispatcher(configuration: configuration, transport: transport)
    }
}
