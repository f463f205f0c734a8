/// An audience's conditions: a tree whose leaves are conditions on the user's attributes
/// (spec `decisions.md` §4.2).
///
/// Read as the reference reads them: every JSON object becomes a ``AudienceCondition`` and is
/// replaced in the tree by its index in ``leaves``, in the order a JSON decoder finishes them
/// (inner objects first). So a bare object is a one-leaf tree, and a condition whose `value` is
/// an object compares against that object's index. An integer in the tree stands for the leaf
/// at that index too (the reference cannot tell the two apart); anything else there, an index
/// out of range, or an empty list evaluates to UNKNOWN (the reference raises there, §19).
public struct AudienceConditions: Sendable, Hashable {
    /// The tree; a leaf is an index into ``leaves``.
    public var tree: ConditionTree<Int>
    /// The conditions, by index.
    public var leaves: [AudienceCondition]

    /// Reads conditions already parsed from JSON (a typed audience's value, or a legacy
    /// audience's string once parsed).
    public init(json: JSONValue) {
        var leaves: [AudienceCondition] = []
        let indexed = Self.replaceObjects(json, leaves: &leaves)
        let count = leaves.count
        self.leaves = leaves
        self.tree = ConditionTree.parse(indexed) { value in
            let index: Int
            switch value {
            case .int(let number): index = Int(truncatingIfNeeded: number)
            case .bool(let flag): index = flag ? 1 : 0
            default: return .unknown
            }
            // Python indexes from the end for a negative number.
            let resolved = index < 0 ? index + count : index
            return resolved >= 0 && resolved < count ? .leaf(resolved) : .unknown
        }
    }

    /// Replaces each object, inner ones first, by its index, collecting it as a condition.
    private static func replaceObjects(_ json: JSONValue, leaves: inout [AudienceCondition]) -> JSONValue {
        switch json {
        case .array(let elements):
            return .array(elements.map { replaceObjects($0, leaves: &leaves) })
        case .object(let members):
            var fields: [String: JSONValue] = [:]
            for member in members { fields[member.key] = replaceObjects(member.value, leaves: &leaves) }
            leaves.append(AudienceCondition(
                name: fields["name"] ?? .null, value: fields["value"] ?? .null,
                type: fields["type"] ?? .null, match: fields["match"] ?? .null))
            return .int(Int64(leaves.count - 1))
        default:
            return json
        }
    }

    /// Evaluates the conditions for a user: `true`, `false` or `nil` (UNKNOWN).
    public func evaluate(attributes: UserAttributes, qualifiedSegments: [String]?) -> Bool? {
        tree.evaluate { index in leaves[index].evaluate(attributes: attributes, qualifiedSegments: qualifiedSegments) }
    }
}
