#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOHTTP1

/// Reads one HTTP request at a time (the pipelining handler before it holds back the next),
/// keeps its body up to the size limit, asks the ``CollectorCore`` for the answer (of the
/// datafile route for paths under `/datafiles/`, else of the events route) and carries it out:
/// a response, a held connection, or a reset.
final class CollectorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: CollectorCore
    private let holdDuration: TimeAmount
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var byteCount = 0
    private var keepsBody = false
    private var heldClose: Scheduled<Void>?

    init(core: CollectorCore, holdDuration: TimeAmount) {
        self.core = core
        self.holdDuration = holdDuration
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            byteCount = 0
            // Only a POST to the endpoint can be decoded; any other body is counted, not kept.
            keepsBody = head.method == .POST && RequestValidation.isEventsPath(head.uri)
            if keepsBody, let length = head.headers.first(name: "content-length").flatMap(Int.init) {
                body.reserveCapacity(min(max(length, 0), RequestValidation.maximumBodyBytes))
            }
            if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                // curl (so URLSession on Linux) otherwise waits a second before sending a large body.
                let interim = HTTPResponseHead(version: head.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
            }
        case .body(let buffer):
            byteCount += buffer.readableBytes
            guard keepsBody else { return }
            if byteCount > RequestValidation.maximumBodyBytes {
                // Over the limit: answered 400 at the end; the rest is counted and dropped.
                keepsBody = false
                body = []
            } else {
                body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let reply = if DatafileRoute.claims(head.uri) {
                core.receiveDatafileRequest(
                    method: head.method.rawValue, path: head.uri,
                    ifModifiedSince: head.headers.first(name: "if-modified-since"),
                    authorization: head.headers.first(name: "authorization")
                )
            } else {
                core.receive(method: head.method.rawValue, path: head.uri, body: body, byteCount: byteCount)
            }
            body = []
            carryOut(reply, for: head, context: context)
        }
    }

    private func carryOut(_ reply: CollectorReply, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch reply {
        case .respond(let status, let extraHeaders, let text):
            var headers = HTTPHeaders()
            for header in extraHeaders { headers.add(name: header.name, value: header.value) }
            // 204 and 304 have no body, and no Content-Length of one.
            if status != 204 && status != 304 { headers.add(name: "Content-Length", value: "\(text.utf8.count)") }
            headers.add(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
            let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            // A HEAD request (the datafile route answers it as GET) gets the head alone.
            if !text.isEmpty && head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            }
            let sent = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive {
                sent.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        case .hold:
            heldClose = context.eventLoop.assumeIsolated().scheduleTask(in: holdDuration) {
                context.close(promise: nil)
            }
        case .reset:
            // SO_LINGER 0 makes close send a TCP reset, as a dropped connection would.
            if let socket = context.channel as? any SocketOptionProvider {
                socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        heldClose?.cancel()
        heldClose = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
