/// The size of a batch request body without its visitors.
enum BatchEnvelope {
    /// An upper bound of the body bytes of a batch of `context` with no visitors: the header
    /// object, `"visitors": [` and `]}`. Every string is counted as if each character needed the
    /// longest JSON escape, so a batch cut with it never passes `maxBatchBytes`.
    static func byteCount(for context: EventContext) -> Int {
        let strings = [context.accountId, context.projectId, context.revision, context.clientName, context.clientVersion]
        let fixed = #"{"account_id": "", "project_id": "", "revision": "", "client_name": "", "client_version": "", "anonymize_ip": false, "enrich_decisions": true, "visitors": []}"#
        return fixed.utf8.count + strings.reduce(0) { $0 + $1.utf8.count * 6 }
    }
}
