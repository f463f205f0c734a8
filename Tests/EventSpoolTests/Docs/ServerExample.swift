// The server example of the README and of the DocC article "Getting started", verbatim: it must
// compile, and `ReadmeTests` checks that both still show exactly this code.
import EventSpool
import EventSpoolAsyncHTTPClient
import EventSpoolServiceLifecycle
import Logging
import ServiceLifecycle

func runEventWorker(queueFile: String, logger: Logger) async throws {
    let transport = AsyncHTTPClientTransport()  // or AsyncHTTPClientTransport(client: yourHTTPClient)
    let dispatcher = try HTTPEventDispatcher(transport: transport)
    let processor = try BatchEventProcessor(queuePath: queueFile, dispatcher: dispatcher, logger: logger)
    let group = ServiceGroup(services: [processor], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    try await group.run()  // until SIGTERM or SIGINT; then what is pending is sent
    try await transport.shutdown()
}
