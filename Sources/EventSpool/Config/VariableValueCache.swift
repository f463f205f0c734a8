/// The typed value of every variable text of a datafile (defaults and variations' values), cast
/// once when the datafile is read rather than at every decision (a `json` value is parsed once).
///
/// Derived data: equal for equal datafiles, so it takes no part in comparing or hashing them.
struct VariableValueCache: Sendable, Hashable {
    private struct Key: Hashable {
        let type: String
        let text: String
    }

    private var values: [Key: EventValue?] = [:]

    /// Casts `text` for a variable of `type` and keeps the result.
    mutating func add(_ text: String, type: String) {
        let key = Key(type: type, text: text)
        if values[key] == nil { values[key] = .some(VariableCast.value(text, type: type)) }
    }

    /// The typed value of `text` for a variable of `type` (`nil` when it cannot be cast).
    func value(_ text: String, type: String) -> EventValue? {
        if let cached = values[Key(type: type, text: text)] { return cached }
        return VariableCast.value(text, type: type)
    }

    static func == (lhs: VariableValueCache, rhs: VariableValueCache) -> Bool { true }

    func hash(into hasher: inout Hasher) {}
}
