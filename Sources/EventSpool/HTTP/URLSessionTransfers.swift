import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The requests in flight of one ``URLSessionTransport``, and its session's delegate: it
/// collects each response, caps its body, decides each redirect with the request's
/// ``HTTPRedirectPolicy``, keeps the deadlines, and resumes each caller exactly once.
///
/// The session calls the delegate on one serial queue; `send`, cancellation and the deadline
/// timers come from other threads, so every transfer is reached under `transfers`'s lock, and a
/// caller is resumed outside it.
final class URLSessionTransfers: NSObject, URLSessionDataDelegate {
    private struct Transfer {
        let task: URLSessionDataTask
        let request: HTTPRequest
        /// The URL being requested now: the request's, then each redirect's.
        var currentURL: String
        var continuation: CheckedContinuation<HTTPResponse, any Error>?
        /// An outcome decided before the caller started waiting (cancelled or shut down).
        var earlyOutcome: Result<HTTPResponse, any Error>?
        var response: HTTPURLResponse?
        var body: [UInt8] = []
        var isBodyTruncated = false
        var isConnected = false
        var redirects = 0
    }

    private let connectTimeout: Duration
    private let transfers = LockedValue<[Int: Transfer]>([:])

    init(connectTimeout: Duration) {
        self.connectTimeout = connectTimeout
    }

    /// Registers `task` for `request`; returns its id.
    func add(_ task: URLSessionDataTask, request: HTTPRequest) -> Int {
        let id = task.taskIdentifier
        transfers.withLock { $0[id] = Transfer(task: task, request: request, currentURL: request.url) }
        return id
    }

    /// Starts the transfer `id`, whose caller waits on `continuation`.
    func start(_ id: Int, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        let early: Result<HTTPResponse, any Error>? = transfers.withLock { transfers in
            guard var transfer = transfers[id] else { return .failure(CancellationError()) }
            if let outcome = transfer.earlyOutcome {
                transfers[id] = nil
                return outcome
            }
            transfer.continuation = continuation
            transfers[id] = transfer
            return nil
        }
        if let early {
            continuation.resume(with: early)
            return
        }
        guard let (task, request) = transfers.withLock({ $0[id].map { ($0.task, $0.request) } }) else { return }
        expire(id, after: request.timeout, with: .requestTimeout(url: request.url, after: request.timeout), unlessConnected: false)
        if !request.body.isEmpty {
            expire(id, after: connectTimeout, with: .connectTimeout(url: request.url), unlessConnected: true)
        }
        task.resume()
    }

    /// The caller's task was cancelled.
    func cancel(_ id: Int) {
        finish(id, with: .failure(CancellationError()), cancellingTask: true)
    }

    /// Fails every transfer (the transport shuts down).
    func failAll(_ error: HTTPTransportError) {
        for id in transfers.withLock({ Array($0.keys) }) {
            finish(id, with: .failure(error), cancellingTask: true)
        }
    }

    /// After `delay`, fails the transfer `id` with `error` if it is still out (and, with
    /// `unlessConnected`, has not shown a sign of its connection).
    private func expire(_ id: Int, after delay: Duration, with error: HTTPTransportError, unlessConnected: Bool) {
        let nanoseconds = Int(min(delay.seconds * 1e9, Double(Int.max / 2)).rounded(.up))
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [weak self] in
            guard let self else { return }
            let due = transfers.withLock { transfers in
                transfers[id].map { !unlessConnected || !$0.isConnected } ?? false
            }
            if due { finish(id, with: .failure(error), cancellingTask: true) }
        }
    }

    /// Ends the transfer `id` with `outcome`, once: the first outcome wins.
    private func finish(_ id: Int, with outcome: Result<HTTPResponse, any Error>, cancellingTask: Bool) {
        let ended: (CheckedContinuation<HTTPResponse, any Error>?, URLSessionDataTask)? = transfers.withLock { transfers in
            guard var transfer = transfers[id] else { return nil }
            guard let continuation = transfer.continuation else {
                // Not started yet: `start` delivers it.
                if transfer.earlyOutcome == nil { transfer.earlyOutcome = outcome }
                transfers[id] = transfer
                return (nil, transfer.task)
            }
            transfers[id] = nil
            return (continuation, transfer.task)
        }
        guard let (continuation, task) = ended else { return }
        if cancellingTask { task.cancel() }
        continuation?.resume(with: outcome)
    }

    /// The response so far of `transfer`.
    private func response(of transfer: Transfer) -> HTTPResponse {
        var headers: [HTTPHeader] = []
        for (name, value) in transfer.response?.allHeaderFields ?? [:] {
            headers.append(HTTPHeader(name: "\(name)", value: "\(value)"))
        }
        return HTTPResponse(
            status: transfer.response?.statusCode ?? 0, headers: headers, body: transfer.body,
            isBodyTruncated: transfer.isBodyTruncated, url: transfer.response?.url?.absoluteString ?? transfer.currentURL
        )
    }

    // MARK: - URLSessionDataDelegate

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64, totalBytesSent: Int64, totalBytesExpectedToSend: Int64
    ) {
        transfers.withLock { $0[task.taskIdentifier]?.isConnected = true }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @Sendable @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        transfers.withLock { transfers in
            guard var transfer = transfers[dataTask.taskIdentifier] else { return }
            transfer.isConnected = true
            transfer.response = response as? HTTPURLResponse
            transfer.body = []
            transfer.isBodyTruncated = false
            transfers[dataTask.taskIdentifier] = transfer
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let id = dataTask.taskIdentifier
        let full: HTTPResponse? = transfers.withLock { transfers in
            guard var transfer = transfers[id] else { return nil }
            defer { transfers[id] = transfer }
            transfer.isConnected = true
            let room = transfer.request.maxResponseBytes - transfer.body.count
            transfer.body += data.prefix(max(0, room))
            guard data.count > room else { return nil }
            transfer.isBodyTruncated = true
            return response(of: transfer)
        }
        // Over the cap: the rest is not read.
        if let full { finish(id, with: .success(full), cancellingTask: true) }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @Sendable @escaping (URLRequest?) -> Void
    ) {
        let next: URLRequest? = transfers.withLock { transfers in
            guard var transfer = transfers[task.taskIdentifier] else { return nil }
            transfer.isConnected = true
            var current = transfer.request
            current.url = transfer.currentURL
            // The next request is made from the rule's, headers and all, not from the one URLSession
            // proposes: the same request as the AsyncHTTPClient transport would send.
            guard let following = transfer.request.redirects.nextRequest(
                after: current, status: response.statusCode, location: response.value(forHTTPHeaderField: "Location"),
                redirectsSoFar: transfer.redirects
            ), let next = URLSessionTransport.urlRequest(for: following) else {
                transfers[task.taskIdentifier] = transfer
                return nil
            }
            transfer.redirects += 1
            transfer.currentURL = following.url
            transfers[task.taskIdentifier] = transfer
            return next
        }
        completionHandler(next)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let id = task.taskIdentifier
        guard let transfer = transfers.withLock({ $0[id] }) else { return }
        if let error {
            finish(id, with: .failure(Self.transportError(error, url: transfer.currentURL, timeout: transfer.request.timeout)), cancellingTask: false)
        } else if transfer.response == nil {
            finish(id, with: .failure(HTTPTransportError.connectionFailed(url: transfer.currentURL, reason: "no HTTP response")), cancellingTask: false)
        } else {
            finish(id, with: .success(response(of: transfer)), cancellingTask: false)
        }
    }

    /// The ``HTTPTransportError`` for what URLSession reported.
    static func transportError(_ error: any Error, url: String, timeout: Duration) -> any Error {
        guard let urlError = error as? URLError else {
            return HTTPTransportError.connectionFailed(url: url, reason: "\(error)")
        }
        switch urlError.code {
        case .cancelled: return CancellationError()
        case .timedOut: return HTTPTransportError.requestTimeout(url: url, after: timeout)
        case .cannotConnectToHost: return HTTPTransportError.connectionFailed(url: url, reason: "connection refused")
        case .networkConnectionLost: return HTTPTransportError.connectionFailed(url: url, reason: "connection closed before a complete response")
        case .cannotFindHost, .dnsLookupFailed: return HTTPTransportError.connectionFailed(url: url, reason: "host not found")
        case .badServerResponse: return HTTPTransportError.connectionFailed(url: url, reason: "not an HTTP response")
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
             .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return HTTPTransportError.connectionFailed(url: url, reason: "TLS failed (URLError \(urlError.code.rawValue))")
        default: return HTTPTransportError.connectionFailed(url: url, reason: "URLError \(urlError.code.rawValue)")
        }
    }
}
