/// One HTTP header field: a name and a value, as sent or received.
///
/// Names are kept as given; ``HTTPRequest/header(_:)`` and ``HTTPResponse/header(_:)`` compare
/// them without regard to case, as HTTP does.
public struct HTTPHeader: Sendable, Hashable {
    /// The field's name, such as `Content-Type`.
    public var name: String
    /// The field's value.
    public var value: String

    /// A header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTPHeader {
    /// The first value of the header `name`, compared without regard to case.
    func first(named name: String) -> String? {
        first { $0.name.caseInsensitiveEquals(name) }?.value
    }
}

extension String {
    /// Equal when compared without regard to ASCII case (HTTP header names are ASCII).
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && lowercased() == other.lowercased()
    }
}
