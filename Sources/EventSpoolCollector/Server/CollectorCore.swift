import Logging
import NIOCore

/// The collector's state and effects, confined to its event loop: the ledgers (event batches,
/// datafiles), the record file, and the open connections (so shutdown can close held ones).
final class CollectorCore {
    private(set) var ledger: CollectorLedger
    private(set) var datafiles: DatafileLedger
    private let record: RecordFile?
    private let logger: Logger
    private var connections: [ObjectIdentifier: any Channel] = [:]
    private var shutdown: EventLoopFuture<Void>?

    init(plan: FaultPlan, datafilePlan: DatafileFaultPlan, record: RecordFile?, logger: Logger, retainsRequests: Bool) {
        ledger = CollectorLedger(plan: plan, retainsRequests: retainsRequests)
        datafiles = DatafileLedger(plan: datafilePlan, retainsRequests: retainsRequests)
        self.record = record
        self.logger = logger
    }

    /// Decides the answer to one complete request and records it; the record line is written
    /// before this returns, so before the response is sent.
    func receive(method: String, path: String, body: [UInt8], byteCount: Int) -> CollectorReply {
        let (request, reply) = ledger.receive(method: method, path: path, body: body, byteCount: byteCount)
        if let record, let failure = record.append(RecordLine.encode(request)) {
            logger.error("collector could not write the record file", metadata: ["path": "\(record.path)", "error": "\(failure)"])
        }
        logger.debug("collector answered a request", metadata: [
            "seq": "\(request.seq)", "method": "\(method)", "path": "\(path)",
            "status": "\(request.status)", "bytes": "\(byteCount)",
            "error": "\(request.rejection?.message ?? "")",
        ])
        return reply
    }

    /// Replaces the fault plan; it starts at its first step.
    func setPlan(_ plan: FaultPlan) {
        ledger.setPlan(plan)
    }

    /// Decides the answer to one datafile request. Datafile requests are not written to the
    /// record file, whose lines are event batches (cli.md); they are logged at debug level.
    func receiveDatafileRequest(method: String, path: String, ifModifiedSince: String?, authorization: String?) -> CollectorReply {
        let (request, reply) = datafiles.receive(method: method, path: path, ifModifiedSince: ifModifiedSince, authorization: authorization)
        logger.debug("collector answered a datafile request", metadata: [
            "seq": "\(request.seq)", "method": "\(method)", "path": "\(path)", "status": "\(request.status)",
            "if-modified-since": "\(ifModifiedSince ?? "")", "authorization": "\(authorization == nil ? "absent" : "present")",
        ])
        return reply
    }

    /// Serves `body` for `sdkKey`; returns its `Last-Modified`.
    func setDatafile(_ body: String, sdkKey: String, accessToken: String?, nowMillis: Int64) -> String {
        datafiles.setDatafile(body, sdkKey: sdkKey, accessToken: accessToken, nowMillis: nowMillis)
    }

    /// Stops serving `sdkKey`.
    func removeDatafile(sdkKey: String) -> Bool {
        datafiles.removeDatafile(sdkKey: sdkKey)
    }

    /// Replaces the datafile fault plan; it starts at its first step.
    func setDatafilePlan(_ plan: DatafileFaultPlan) {
        datafiles.setPlan(plan)
    }

    /// Tracks an accepted connection; `false` once shutdown has begun (the caller closes it).
    func register(_ channel: any Channel) -> Bool {
        guard shutdown == nil else { return false }
        connections[ObjectIdentifier(channel)] = channel
        return true
    }

    /// Forgets a closed connection.
    func unregister(_ channel: any Channel) {
        connections[ObjectIdentifier(channel)] = nil
    }

    /// What a call to shutdown has to do.
    enum ShutdownTicket {
        /// This call shuts down: close these channels, then complete the promise.
        case first(channels: [any Channel], done: EventLoopPromise<Void>)
        /// Shutdown is under way or done: wait for this.
        case already(EventLoopFuture<Void>)
    }

    /// Starts shutdown once; later calls get the same completion to wait for.
    func beginShutdown(server: any Channel, on loop: any EventLoop) -> ShutdownTicket {
        if let shutdown { return .already(shutdown) }
        let done = loop.makePromise(of: Void.self)
        shutdown = done.futureResult
        return .first(channels: [server] + connections.values, done: done)
    }

    /// Closes the record file once every connection is closed.
    func finishShutdown() {
        record?.close()
    }
}
