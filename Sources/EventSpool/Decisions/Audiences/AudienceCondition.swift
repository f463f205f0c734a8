/// One condition of an audience, `{"name", "value", "type", "match"}`, and how it is judged
/// against a user's attributes (spec `decisions.md` §4.5).
///
/// The rules are the reference's: a bool is never a number; a number counts only when finite and
/// at most 2^53 in magnitude (inclusive), on either side; `exact` compares a string with a
/// string, a bool with a bool, a number with a number (`5 == 5.0`); a missing or `null`
/// attribute is UNKNOWN except for `exists` and `qualified`. Strings are compared by Unicode
/// code point, as Python compares them.
public struct AudienceCondition: Sendable, Hashable {
    /// The attribute the condition reads (`name`).
    public var name: JSONValue
    /// The value it compares with (`value`; an object here is its leaf index, as in the reference).
    public var value: JSONValue
    /// `type`: only `custom_attribute` and `third_party_dimension` are evaluated.
    public var type: JSONValue
    /// `match`: `null` means `exact`.
    public var match: JSONValue
    /// The match applied, read once from `type` and `match`: `nil` for an unknown condition
    /// type or match type, which are UNKNOWN.
    private let applied: Match?

    /// Creates a condition from the members of its JSON object (`.null` for an absent one).
    public init(name: JSONValue, value: JSONValue, type: JSONValue, match: JSONValue) {
        self.name = name
        self.value = value
        self.type = type
        self.match = match
        guard case .string(let conditionType) = type,
              conditionType == "custom_attribute" || conditionType == "third_party_dimension"
        else {
            applied = nil
            return
        }
        switch match {
        case .null: applied = .exact
        case .string(let text): applied = Match(rawValue: text)
        default: applied = nil
        }
    }

    /// The match types the reference knows.
    public enum Match: String, Sendable, CaseIterable {
        /// Equal values of the same kind.
        case exact
        /// The attribute is present and not null.
        case exists
        /// The condition's string occurs in the attribute's.
        case substring
        /// Greater than.
        case gt
        /// Greater than or equal.
        case ge
        /// Less than.
        case lt
        /// Less than or equal.
        case le
        /// Semantic versions equal.
        case semverEq = "semver_eq"
        /// Semantic version greater or equal.
        case semverGe = "semver_ge"
        /// Semantic version greater.
        case semverGt = "semver_gt"
        /// Semantic version less or equal.
        case semverLe = "semver_le"
        /// Semantic version less.
        case semverLt = "semver_lt"
        /// The user's qualified segments contain the condition's value.
        case qualified
    }

    /// Judges the condition: `true`, `false` or `nil` (UNKNOWN).
    public func evaluate(attributes: UserAttributes, qualifiedSegments: [String]?) -> Bool? {
        guard let match = applied else { return nil }
        let attribute: EventValue?
        if case .string(let key) = name { attribute = attributes[key] } else { attribute = nil }
        switch match {
        case .exists:
            guard let attribute, attribute != .null else { return false }
            return true
        case .qualified:
            guard case .string(let segment) = value else { return nil }
            return qualifiedSegments?.contains { Self.sameScalars($0, segment) } ?? false
        default:
            guard let user = attribute, user != .null else { return nil }
            return evaluate(match, user: user)
        }
    }

    private func evaluate(_ match: Match, user: EventValue) -> Bool? {
        switch match {
        case .exact:
            switch (value, user) {
            case (.string(let expected), _):
                guard case .string(let actual) = user else { return nil }
                return Self.sameScalars(actual, expected)
            case (.bool(let expected), _):
                guard case .bool(let actual) = user else { return nil }
                return actual == expected
            case (.int, _), (.double, _):
                guard let expected = Self.number(value), let actual = Self.number(user) else { return nil }
                return actual == expected
            default:
                return nil
            }
        case .gt, .ge, .lt, .le:
            guard let expected = Self.number(value), let actual = Self.number(user) else { return nil }
            switch match {
            case .gt: return actual > expected
            case .ge: return actual >= expected
            case .lt: return actual < expected
            default: return actual <= expected
            }
        case .substring:
            guard case .string(let expected) = value, case .string(let actual) = user else { return nil }
            return Self.contains(actual, expected)
        case .semverEq, .semverGe, .semverGt, .semverLe, .semverLt:
            guard case .string(let target) = value, case .string(let version) = user,
                  let order = SemanticVersion.compare(target: target, user: version)
            else { return nil }
            switch match {
            case .semverEq: return order == 0
            case .semverGe: return order >= 0
            case .semverGt: return order > 0
            case .semverLe: return order <= 0
            default: return order < 0
            }
        case .exists, .qualified:
            return nil  // handled by the caller
        }
    }

    /// 2^53: numbers beyond it (either way) are not compared.
    static let largestExactNumber = 9_007_199_254_740_992.0

    /// A condition value as a number the reference compares: an integer or float (never a
    /// bool), finite, at most 2^53 in magnitude.
    static func number(_ value: JSONValue) -> ExactNumber? {
        switch value {
        case .int(let number): return ExactNumber(number)
        case .double(let number): return ExactNumber(number.value)
        default: return nil
        }
    }

    /// A user's attribute as such a number.
    static func number(_ value: EventValue) -> ExactNumber? {
        switch value {
        case .int(let number): return ExactNumber(number)
        case .double(let number): return ExactNumber(number)
        default: return nil
        }
    }

    /// Python's `==` on strings: code point by code point.
    static func sameScalars(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8)
    }

    /// Python's `needle in haystack` on strings (UTF-8 is self-synchronising, so a byte match
    /// is a code point match).
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let hay = Array(haystack.utf8)
        let pin = Array(needle.utf8)
        if pin.isEmpty { return true }
        guard pin.count <= hay.count else { return false }
        for start in 0...(hay.count - pin.count) where hay[start] == pin[0] {
            if hay[start..<(start + pin.count)].elementsEqual(pin) { return true }
        }
        return false
    }
}

/// A number an audience condition may compare: finite and within ±2^53, where an integer and a
/// double of the same value are exactly equal (every integer in the range is a double).
struct ExactNumber: Comparable {
    let value: Double

    init?(_ integer: Int64) {
        guard integer.magnitude <= 9_007_199_254_740_992 else { return nil }
        value = Double(integer)
    }

    init?(_ double: Double) {
        guard double.isFinite, double.magnitude <= AudienceCondition.largestExactNumber else { return nil }
        value = double
    }

    static func < (lhs: ExactNumber, rhs: ExactNumber) -> Bool { lhs.value < rhs.value }
}
