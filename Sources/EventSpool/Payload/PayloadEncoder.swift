/// The one encoder of the wire format (spec §4).
///
/// It writes keys in the order of spec §4, deterministically, in the reference's style
/// (see ``LogEvent``): the same event always gives the same bytes.
///
/// ```swift
/// let stored = PayloadEncoder.serialize(event)   // or event.serialized()
/// stored.visitorJSON
/// // {"snapshots": [{"events": [{"entity_id": "10428540015", "uuid": "…", "key": "purchase",
/// //   "timestamp": 1700000002000, "revenue": 1999, "value": 19.99, "tags": {…}}]}],
/// //   "attributes": […], "visitor_id": "alice"}
/// ```
package enum PayloadEncoder {
    /// The event's visitor object, ready for the queue.
    package static func serialize(_ event: UserEvent) -> SerializedEvent {
        SerializedEvent(
            uuid: event.uuid,
            kind: event.kind,
            userId: event.userId,
            context: event.context,
            visitorJSON: visitorJSON(event),
            timestampMillis: event.timestampMillis
        )
    }

    /// The visitor object of one event as UTF-8 JSON text: what goes inside `"visitors": [...]`.
    package static func visitorJSON(_ event: UserEvent) -> String {
        var writer = JSONWriter(capacity: 512)
        writeVisitor(event, to: &writer)
        return writer.string
    }

    /// Writes the visitor object. Each literal holds the punctuation and the keys between two
    /// values, exactly as they go on the wire, so a visitor takes as few appends as it has values.
    static func writeVisitor(_ event: UserEvent, to writer: inout JSONWriter) {
        writer.raw("{\"snapshots\": [{\"events\": [{\"entity_id\": ")
        switch event.payload {
        case .impression(let impression): writer.write(impression.campaignId)
        case .conversion(let conversion): writer.write(conversion.eventId)
        }
        writer.raw(", \"uuid\": ")
        writer.write(event.uuid)
        writer.raw(", \"key\": ")
        switch event.payload {
        case .impression: writer.write(Impression.eventKey)
        case .conversion(let conversion): writer.write(conversion.eventKey)
        }
        writer.raw(", \"timestamp\": ")
        writer.write(event.timestampMillis)
        switch event.payload {
        case .impression(let impression):
            writer.raw("}], \"decisions\": [{\"campaign_id\": ")
            writer.write(impression.campaignId)
            writer.raw(", \"experiment_id\": ")
            writer.write(impression.experimentId)
            writer.raw(", \"variation_id\": ")
            if let variationId = impression.variationId { writer.write(variationId) } else { writer.raw("null") }
            writer.raw(", \"metadata\": {\"flag_key\": ")
            writer.write(impression.flagKey)
            writer.raw(", \"rule_key\": ")
            writer.write(impression.ruleKey)
            writer.raw(", \"rule_type\": ")
            writer.write(impression.ruleType.rawValue)
            writer.raw(", \"variation_key\": ")
            writer.write(impression.variationKey)
            writer.raw(impression.enabled ? ", \"enabled\": true" : ", \"enabled\": false")
            if let cmabUUID = impression.cmabUUID {
                writer.raw(", \"cmab_uuid\": ")
                writer.write(cmabUUID)
            }
            writer.raw("}}]}], \"attributes\": [")
        case .conversion(let conversion):
            if let revenue = conversion.revenue {
                writer.raw(", \"revenue\": ")
                writer.write(revenue)
            }
            if let value = conversion.value {
                writer.raw(", \"value\": ")
                writer.write(value.value)
            }
            if let tags = conversion.tags {
                writer.raw(", \"tags\": ")
                writer.write(JSONValue.object(tags))
            }
            writer.raw("}]}], \"attributes\": [")
        }
        for (position, attribute) in event.attributes.enumerated() {
            writer.raw(position == 0 ? "{\"entity_id\": " : ", {\"entity_id\": ")
            writer.write(attribute.entityId)
            writer.raw(", \"key\": ")
            writer.write(attribute.key)
            writer.raw(", \"type\": \"custom\", \"value\": ")
            writer.write(attribute.value)
            writer.byte(UInt8(ascii: "}"))
        }
        writer.raw("], \"visitor_id\": ")
        writer.write(event.userId)
        writer.byte(UInt8(ascii: "}"))
    }

    /// Formats a finite double as Python's `repr` does, which always reads back as the same
    /// float and always looks like one: `7.0`, `19.99`, `1e-05`, `1e+16`, `-0.0`.
    ///
    /// Swift's shortest round-trip digits are Python's; only the notation differs between 2^53
    /// and 10^16, where Swift writes an exponent and Python does not.
    package static func formatDouble(_ value: Double) -> String {
        let text = value.description
        guard text.utf8.count > 4, text.hasSuffix("e+15") else { return text }
        // d.ddde+15 → 16 integer digits, then the rest as the fraction.
        var digits = text.dropLast(4).filter { $0 != "." }
        let negative = digits.first == "-"
        if negative { digits.removeFirst() }
        let integerPart = digits.count >= 16 ? String(digits.prefix(16)) : digits + String(repeating: "0", count: 16 - digits.count)
        let fraction = digits.count > 16 ? String(digits.dropFirst(16)) : "0"
        return (negative ? "-" : "") + integerPart + "." + fraction
    }
}

extension UserEvent {
    /// This event as an ``EventQueue`` stores it: its visitor object encoded exactly as the
    /// official SDK sends it, byte for byte. ``BatchEventProcessor`` does this for every event it
    /// is given; an ``EventProcessor`` of your own calls it to append events to a queue itself.
    ///
    /// ```swift
    /// try queue.append(event.serialized())
    /// ```
    public func serialized() -> SerializedEvent { PayloadEncoder.serialize(self) }
}
