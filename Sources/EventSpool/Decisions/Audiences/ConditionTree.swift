/// An `and`/`or`/`not` tree as the datafile writes it (`["and", ["or", a, b], ["not", c]]`),
/// evaluated with three-valued logic (spec `decisions.md` §4.3).
///
/// A list whose first element is `"and"`, `"or"` or `"not"` applies that operator to the rest;
/// any other list is an implicit OR over all its elements; anything else is a leaf. The result
/// is `true`, `false` or `nil` (UNKNOWN).
public indirect enum ConditionTree<Leaf: Sendable & Hashable>: Sendable, Hashable {
    /// FALSE if any operand is FALSE, else UNKNOWN if any is UNKNOWN, else TRUE (`["and"]` is TRUE).
    case and([ConditionTree])
    /// TRUE if any operand is TRUE, else UNKNOWN if any is UNKNOWN, else FALSE (`["or"]` is FALSE).
    case or([ConditionTree])
    /// The negation of its first operand only; UNKNOWN stays UNKNOWN, and `["not"]` is UNKNOWN.
    case not(ConditionTree?)
    /// A leaf, evaluated by the caller.
    case leaf(Leaf)
    /// Something that can never be evaluated: an empty list, or a leaf of the wrong kind. The
    /// reference raises an exception out of the public call there; EventSpool evaluates it to
    /// UNKNOWN (spec §19).
    case unknown

    /// Evaluates the tree left to right, short-circuiting as the reference does.
    public func evaluate(_ leaf: (Leaf) -> Bool?) -> Bool? {
        switch self {
        case .and(let operands):
            var sawUnknown = false
            for operand in operands {
                switch operand.evaluate(leaf) {
                case false?: return false
                case nil: sawUnknown = true
                case true?: continue
                }
            }
            return sawUnknown ? nil : true
        case .or(let operands):
            var sawUnknown = false
            for operand in operands {
                switch operand.evaluate(leaf) {
                case true?: return true
                case nil: sawUnknown = true
                case false?: continue
                }
            }
            return sawUnknown ? nil : false
        case .not(let operand):
            return operand?.evaluate(leaf).map { !$0 }
        case .leaf(let value):
            return leaf(value)
        case .unknown:
            return nil
        }
    }

    /// Reads a tree from JSON, turning every non-list value into a node with `leaf`.
    static func parse(_ json: JSONValue, leaf: (JSONValue) -> ConditionTree) -> ConditionTree {
        guard case .array(let elements) = json else { return leaf(json) }
        guard let first = elements.first else { return .unknown }
        let rest = elements.dropFirst().map { parse($0, leaf: leaf) }
        switch first {
        case .string("and"): return .and(rest)
        case .string("or"): return .or(rest)
        case .string("not"): return .not(rest.first)
        default: return .or(elements.map { parse($0, leaf: leaf) })
        }
    }
}

/// The audience conditions of an experiment or rule: a tree whose leaves are audience ids.
public typealias AudienceTree = ConditionTree<String>

extension ConditionTree where Leaf == String {
    /// Reads `audienceConditions` (or `audienceIds`, an implicit OR). A leaf that is not a
    /// string names no audience and evaluates to UNKNOWN.
    static func audiences(_ json: JSONValue) -> AudienceTree {
        parse(json) { value in
            if case .string(let id) = value { return .leaf(id) }
            return .unknown
        }
    }
}
