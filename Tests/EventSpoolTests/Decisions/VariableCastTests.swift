import Testing
@testable import EventSpool

/// Variable values cast by type, as the reference's `get_typecast_value` (decisions.md §11).
@Suite struct VariableCastTests {
    @Test func booleansAreExactlyTrue() {
        #expect(VariableCast.value("true", type: "boolean") == true)
        #expect(VariableCast.value("True", type: "boolean") == false)
        #expect(VariableCast.value("1", type: "boolean") == false)
    }

    @Test func integersArePythonsInt() {
        #expect(VariableCast.value("7", type: "integer") == 7)
        #expect(VariableCast.value(" 42 ", type: "integer") == 42)
        #expect(VariableCast.value("+42", type: "integer") == 42)
        #expect(VariableCast.value("4_2", type: "integer") == 42)
        #expect(VariableCast.value("-007", type: "integer") == -7)
        #expect(VariableCast.value("12345678901234567890", type: "integer") == .integerOutOfRange("12345678901234567890"))
        for bad in ["1.5", "", "4__2", "_42", "42_", "0x10", "- 5", "x"] {
            #expect(VariableCast.value(bad, type: "integer") == nil, "\(bad)")
        }
    }

    @Test func doublesArePythonsFloat() {
        #expect(VariableCast.value("1e3", type: "double") == 1000.0)
        #expect(VariableCast.value("100", type: "double") == 100.0)
        #expect(VariableCast.value("-inf", type: "double") == .double(-.infinity))
        #expect(VariableCast.value("1e999", type: "double") == .double(.infinity))
        guard case .double(let nan)? = VariableCast.value("NaN", type: "double") else { Issue.record("NaN is a float"); return }
        #expect(nan.isNaN)
        #expect(VariableCast.value("abc", type: "double") == nil)
    }

    @Test func jsonIsParsedAndAnythingElseIsText() {
        #expect(VariableCast.value(#"{"k": 1, "k": 2}"#, type: "json") == ["k": 2])
        #expect(VariableCast.value("[1, 2.0]", type: "json") == [1, 2.0])
        #expect(VariableCast.value("{bad", type: "json") == nil)
        #expect(VariableCast.value("Grüße", type: "string") == "Grüße")
        #expect(VariableCast.value("2020-01-01", type: "date") == "2020-01-01")
    }
}
