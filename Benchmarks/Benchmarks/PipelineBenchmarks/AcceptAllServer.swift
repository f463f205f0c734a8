import NIOCore
import NIOHTTP1
import NIOPosix

/// The "loopback server that accepts everything": it reads each request whole and
/// answers 204, checking nothing. It measures what the pipeline costs apart from a server's
/// own work; the benchmark beside it uses the validating `eventspool collector` instead. With a
/// `delay`, each answer goes that long after the request was read: a network's round trip.
struct AcceptAllServer {
    let port: Int
    private let channel: any Channel

    static func start(delay: TimeAmount? = nil) async throws -> AcceptAllServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(NoContentHandler(delay: delay))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return AcceptAllServer(port: channel.localAddress?.port ?? 0, channel: channel)
    }

    var url: String { "http://127.0.0.1:\(port)/v1/events" }


    private final class NoContentHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let delay: TimeAmount?

        init(delay: TimeAmount?) {
            self.delay = delay
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            guard let delay else { return Self.answer(context) }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) { Self.answer(bound.value) }
        }

        private static func answer(_ context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .noContent, headers: headers))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        }
    }
}
