import Foundation
import SwiftTuneJSON
import Testing

@Suite struct JSONValueTests {
    @Test func accessors() throws {
        let value = try JSONParser.parse(#"{"s": "x", "b": true, "i": 7, "f": 4096.0, "a": [1], "o": {"k": null}, "n": null}"#)
        #expect(value["s"]?.stringValue == "x" && value["i"]?.stringValue == nil)
        #expect(value["b"]?.boolValue == true && value["s"]?.boolValue == nil)
        #expect(value["i"]?.intValue == 7 && value["f"]?.intValue == nil && value["f"]?.integralValue == 4096)
        #expect(value["i"]?.doubleValue == 7 && value["s"]?.doubleValue == nil)
        #expect(value["a"]?.arrayValue == [1] && value["o"]?.arrayValue == nil)
        #expect(value["o"]?.objectMembers == [JSONMember(key: "k", value: .null)])
        #expect(value["n"]?.isNull == true && value["o"]?["k"]?.isNull == true && value["missing"] == nil)
        #expect(value["a"]?["s"] == nil)  // not an object
        #expect(value.objectMembers?.map(\.value.typeDescription)
            == ["a string", "a boolean", "a number", "a number", "an array", "an object", "null"])
        #expect(value.objectMembers?.map(\.value.summary)
            == [#"a string "x""#, "true", "7", "4096.0", "an array of 1", "an object", "null"])
        #expect(JSONValue.string(String(repeating: "y", count: 50)).summary == "a string \"\(String(repeating: "y", count: 40))…\"")
    }

    @Test func builtObjectsLookUpTheLastRepeatedKey() {
        let value = JSONValue.object([JSONMember(key: "k", value: 1), JSONMember(key: "k", value: 2)])
        #expect(value["k"] == 2)
    }

    @Test func numberEquality() throws {
        #expect(JSONValue.number(JSONNumber(0)) == (try JSONParser.parse("-0")))
        #expect(try JSONParser.parse("1e2") == JSONParser.parse("100.0"))
        #expect(try JSONParser.parse("1") != JSONParser.parse("1.0"))  // as json.dumps tells them apart
        #expect(try JSONParser.parse("NaN", options: .python) != JSONParser.parse("NaN", options: .python))
        #expect(try JSONParser.parse("123456789012345678901234567890") != JSONParser.parse("123456789012345678901234567891"))
        #expect(JSONNumber(2.5).text == "2.5" && JSONNumber(100.0).text == "100.0" && JSONNumber(Double.nan).text == "NaN")
        #expect(JSONNumber(UInt64.max).text == "18446744073709551615")
    }

    @Test func literalsKeepTheirOrder() {
        let value: JSONValue = ["z": 1, "a": [true, false, 2.5, "s"], "m": [:]]
        #expect(value.objectMembers?.map(\.key) == ["z", "a", "m"])
        #expect(value.pythonJSONString() == #"{"z": 1, "a": [true, false, 2.5, "s"], "m": {}}"#)
    }

    @Test func codableRoundTrip() throws {
        let value = try JSONParser.parse(#"{"b": [1, -2.5, "x", null, true, {"k": 18446744073709551615}], "a": {}}"#)
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        // A Decoder does not report member order: members come back sorted by key.
        #expect(decoded == ["a": [:], "b": [1, -2.5, "x", .null, true, ["k": .number(JSONNumber(UInt64.max))]]])
        struct Call: Codable, Equatable { var name: String; var arguments: JSONValue }
        let call = Call(name: "f", arguments: ["x": 1, "y": [0.5]])
        #expect(try JSONDecoder().decode(Call.self, from: JSONEncoder().encode(call)) == call)
    }
}
