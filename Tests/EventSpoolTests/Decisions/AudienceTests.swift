import Testing
@testable import EventSpool

/// Audience evaluation (decisions.md §4, checklist §21 items 6–11): the three-valued trees, the
/// match types and their type rules, the 2^53 bound, and the semantic version table.
@Suite struct AudienceTests {
    // MARK: Trees (§4.3)

    /// A tree over the leaves T, F and U (UNKNOWN), written as the datafile writes it.
    func evaluate(_ json: String) throws -> Bool? {
        let tree = ConditionTree<String>.audiences(try JSONValue.parse(json))
        return tree.evaluate { ["T": true, "F": false][$0] ?? nil }
    }

    @Test func andIsFalseOnAnyFalseElseUnknownOnAnyUnknown() throws {
        #expect(try evaluate(#"["and", "T", "T"]"#) == true)
        #expect(try evaluate(#"["and", "T", "F"]"#) == false)
        #expect(try evaluate(#"["and", "U", "F"]"#) == false)
        #expect(try evaluate(#"["and", "T", "U"]"#) == nil)
        #expect(try evaluate(#"["and"]"#) == true)
    }

    @Test func orIsTrueOnAnyTrueElseUnknownOnAnyUnknown() throws {
        #expect(try evaluate(#"["or", "F", "T"]"#) == true)
        #expect(try evaluate(#"["or", "U", "T"]"#) == true)
        #expect(try evaluate(#"["or", "F", "U"]"#) == nil)
        #expect(try evaluate(#"["or", "F", "F"]"#) == false)
        #expect(try evaluate(#"["or"]"#) == false)
    }

    @Test func notNegatesItsFirstOperandOnly() throws {
        #expect(try evaluate(#"["not", "T"]"#) == false)
        #expect(try evaluate(#"["not", "F"]"#) == true)
        #expect(try evaluate(#"["not", "U"]"#) == nil)
        #expect(try evaluate(#"["not"]"#) == nil)
        #expect(try evaluate(#"["not", "F", "F"]"#) == true)
    }

    @Test func aListWithoutOperatorIsAnImplicitOr() throws {
        #expect(try evaluate(#"["F", "T"]"#) == true)
        #expect(try evaluate(#"["F", ["and", "T", "U"]]"#) == nil)
        #expect(try evaluate(#"[["or", "T"]]"#) == true, "[[\"or\", …]] is accepted (the reference raises at construction)")
    }

    @Test func anEmptyListOrALeafOfTheWrongKindIsUnknownNotATrap() throws {
        #expect(try evaluate(#"["or", []]"#) == nil)
        #expect(try evaluate(#"["and", "T", 5]"#) == nil)
        #expect(try evaluate("[]") == nil)
    }

    @Test func aMissingAudienceIsUnknownSoOrWithATrueOneIsTrue() throws {
        // §21.6 with the checklist's missing_audience_test: ["or", firefox, "7999"].
        let rig = try ClientRig.checklist()
        #expect(rig.client.getVariation(experimentKey: "missing_audience_test", userId: "m", attributes: ["browser": "firefox"]) == "m_on")
        #expect(rig.client.getVariation(experimentKey: "missing_audience_test", userId: "m", attributes: ["browser": "chrome"]) == nil)
    }

    // MARK: Leaves (§4.5)

    func match(_ condition: String, _ attributes: UserAttributes, segments: [String]? = nil) throws -> Bool? {
        AudienceConditions(json: try JSONValue.parse(condition)).evaluate(attributes: attributes, qualifiedSegments: segments)
    }

    func leaf(_ match: String, _ value: String) -> String {
        #"{"name": "n", "type": "custom_attribute", "match": "\#(match)", "value": \#(value)}"#
    }

    @Test func exactComparesValuesOfTheSameKindOnly() throws {
        #expect(try match(leaf("exact", "5"), ["n": 5]) == true)
        #expect(try match(leaf("exact", "5"), ["n": 5.0]) == true)
        #expect(try match(leaf("exact", "5"), ["n": true]) == nil)
        #expect(try match(leaf("exact", "true"), ["n": 1]) == nil)
        #expect(try match(leaf("exact", "true"), ["n": true]) == true)
        #expect(try match(leaf("exact", #""a""#), ["n": "A"]) == false)
        #expect(try match(leaf("exact", #""a""#), ["n": 1]) == nil)
        #expect(try match(leaf("exact", "null"), ["n": 1]) == nil)
        #expect(try match(leaf("exact", "9007199254740993"), ["n": 9_007_199_254_740_993]) == nil)
        #expect(try match(#"{"name": "n", "type": "custom_attribute", "value": "x"}"#, ["n": "x"]) == true, "no match means exact")
    }

    @Test func strictEqualityIsByCodePointNotCanonicalEquivalence() throws {
        // "é" precomposed and decomposed are equal Swift strings but different Python ones.
        #expect(try match(leaf("exact", #""\u00e9""#), ["n": .string("e\u{301}")]) == false)
        #expect(try match(leaf("substring", #""\u00e9""#), ["n": .string("cafe\u{301}")]) == false)
        #expect(try match(leaf("substring", #""af""#), ["n": "café"]) == true)
    }

    @Test func numericMatchesNeedFiniteNumbersWithinTwoToTheFiftyThird() throws {
        #expect(try match(leaf("gt", "5"), ["n": 5]) == false)
        #expect(try match(leaf("ge", "5"), ["n": 5]) == true)
        #expect(try match(leaf("le", "5.5"), ["n": 5]) == true)
        #expect(try match(leaf("lt", "5"), ["n": 4.999]) == true)
        #expect(try match(leaf("gt", "5"), ["n": "6"]) == nil)
        #expect(try match(leaf("gt", "5"), ["n": true]) == nil)
        #expect(try match(leaf("gt", "true"), ["n": 6]) == nil)
        #expect(try match(leaf("ge", "0"), ["n": 9_007_199_254_740_992]) == true, "2^53 is inside the bound")
        #expect(try match(leaf("ge", "0"), ["n": 9_007_199_254_740_993]) == nil)
        #expect(try match(leaf("ge", "0"), ["n": -9_007_199_254_740_993]) == nil)
        #expect(try match(leaf("ge", "0"), ["n": .double(.nan)]) == nil)
        #expect(try match(leaf("ge", "0"), ["n": .double(.infinity)]) == nil)
        #expect(try match(leaf("ge", "0"), ["n": .integerOutOfRange("99999999999999999999")]) == nil)
        #expect(try match(leaf("lt", "9007199254740994"), ["n": 1]) == nil)
    }

    @Test func aMissingOrNullAttributeIsUnknownButExistsIsFalse() throws {
        #expect(try match(leaf("exact", "1"), [:]) == nil)
        #expect(try match(leaf("exact", "1"), ["n": nil]) == nil)
        #expect(try match(leaf("exists", "null"), [:]) == false)
        #expect(try match(leaf("exists", "null"), ["n": nil]) == false)
        #expect(try match(leaf("exists", "null"), ["n": .double(.nan)]) == true)
        #expect(try match(leaf("exists", "null"), ["n": ["a": 1]]) == true)
    }

    @Test func anUnknownConditionTypeOrMatchIsUnknownAndThirdPartyDimensionCounts() throws {
        #expect(try match(#"{"name": "n", "type": "future", "match": "exact", "value": 1}"#, ["n": 1]) == nil)
        #expect(try match(leaf("regex", #"".*""#), ["n": "x"]) == nil)
        #expect(try match(#"{"name": "n", "type": "third_party_dimension", "match": "exact", "value": 1}"#, ["n": 1]) == true)
    }

    @Test func qualifiedChecksTheContextsSegments() throws {
        #expect(try match(leaf("qualified", #""vip""#), [:]) == false)
        #expect(try match(leaf("qualified", #""vip""#), [:], segments: ["vip"]) == true)
        #expect(try match(leaf("qualified", "1"), [:], segments: ["1"]) == nil)
    }

    @Test func objectsAreReplacedByTheirIndexInnerOnesFirst() throws {
        // The value object is leaf 0 and the condition itself leaf 1, which compares with 0.
        let conditions = AudienceConditions(json: try JSONValue.parse(leaf("exact", #"{"a": 1}"#)))
        #expect(conditions.leaves.count == 2 && conditions.leaves[1].value == .int(0))
        #expect(conditions.evaluate(attributes: ["n": 0], qualifiedSegments: nil) == true)
        // A bare object is a one-leaf tree; an integer in a tree stands for that leaf.
        #expect(try match(#"["or", 0, {"name": "n", "type": "custom_attribute", "value": 1}]"#, ["n": 1]) == true)
        #expect(try match(#"["or", 7]"#, ["n": 1]) == nil, "an index out of range is UNKNOWN")
    }

    // MARK: Semantic versions (§4.6)

    /// The spec's table: targets eq "2.1", gt "2.1.0-beta", lt "3.0.0", ge "2.0.0+build.1".
    static let semverTable: [(user: String, expected: [Bool?])] = [
        ("2.1", [true, true, true, true]), ("2.1.0", [true, true, true, true]), ("2.1.5", [true, true, true, true]),
        ("2.1.0+b", [true, true, true, true]), ("02.1", [true, true, true, true]),
        ("2", [false, true, true, true]),
        ("2.1.0-beta", [false, false, true, true]), ("2.1.0-alpha", [false, false, true, true]),
        ("3.0.0-rc1", [false, true, true, true]),
        ("2.0.0", [false, false, true, true]), ("2.0.0+build.2", [false, false, true, true]),
        ("2.1.0-beta+x", [false, true, true, true]),
        ("1.2.3.4", [nil, nil, nil, nil]), ("1 .2", [nil, nil, nil, nil]), ("a.b.c", [nil, nil, nil, nil]), ("", [nil, nil, nil, nil]),
        // The reference raises ValueError on this one for ge: UNKNOWN here (§19).
        ("2.0.0-1", [false, false, true, nil]),
    ]

    @Test(arguments: semverTable.indices)
    func semanticVersionsCompareAsTheReference(_ index: Int) throws {
        let row = Self.semverTable[index]
        let targets = [("semver_eq", "2.1"), ("semver_gt", "2.1.0-beta"), ("semver_lt", "3.0.0"), ("semver_ge", "2.0.0+build.1")]
        for ((matchType, target), expected) in zip(targets, row.expected) {
            #expect(try match(leaf(matchType, "\"\(target)\""), ["n": .string(row.user)]) == expected, "\(row.user) \(matchType) \(target)")
        }
        #expect(try match(leaf("semver_eq", #""2""#), ["n": 2]) == nil, "a number is not a version")
    }

    @Test func preReleaseAndBuildSuffixesCompareAsWholeStrings() {
        #expect(SemanticVersion.compare(target: "2.0.0-rc.9", user: "2.0.0-rc.10") == -1)
        #expect(SemanticVersion.compare(target: "2.0.0+build.1", user: "2.0.0+build.2") == 1)
        #expect(SemanticVersion.compare(target: "2.1.0", user: "2.1") == -1)
        #expect(SemanticVersion.compare(target: "1.0", user: "1.0.0.0") == nil)
        #expect(SemanticVersion.compare(target: "1.²", user: "1.2") == nil, "ASCII digits only")
        #expect(SemanticVersion.compare(target: "1.99999999999999999999999", user: "1.100000000000000000000000") == 1, "any length")
    }
}
