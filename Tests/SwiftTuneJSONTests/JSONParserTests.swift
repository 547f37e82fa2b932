import Foundation
import SwiftTuneJSON
import Testing

/// The error `body` throws, recording an issue when it throws nothing.
func jsonError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(JSONError) -> Void) -> JSONError? {
    do {
        try body()
        Issue.record("expected a JSONError, but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, options: JSONParser.Options = .strict,
                sourceLocation: SourceLocation = #_sourceLocation) -> JSONError? {
    jsonError(sourceLocation: sourceLocation) { () throws(JSONError) in _ = try JSONParser.parse(text, options: options) }
}

@Suite struct JSONParserTests {
    /// From SwiftTuneChat's parser tests: order, Python output, offsets, depth, element offsets.
    @Test func keepsOrderAndReportsOffsets() throws {
        let v = try JSONParser.parse(#"{"b": 1, "a": [true, null, 2.5, "\u00e9\n"], "c": {"z": -3e2}}"#)
        #expect(v.objectMembers?.map(\.key) == ["b", "a", "c"])
        #expect(v.pythonJSONString() == #"{"b": 1, "a": [true, null, 2.5, "é\n"], "c": {"z": -300.0}}"#)
        #expect(parseError(#"{"a": }"#)?.offset == 6)
        #expect(throws: JSONError.self) { try JSONParser.parse("[1, 2") }
        #expect(throws: JSONError.self) { try JSONParser.parse(String(repeating: "[", count: 600)) }
        let items = try JSONParser.parseTopLevelArray(Array("[\n {\"a\":1},\n {\"b\":2}\n]".utf8))
        #expect(items.map(\.offset) == [3, 13])
    }

    @Test func acceptsTheGrammar() throws {
        let cases: [(String, JSONValue)] = [
            ("null", .null), (" true ", true), ("\tfalse\r\n", false), ("0", 0), ("-12", -12), ("\"\"", ""),
            ("[]", []), ("{}", [:]), ("[1,[2,[3]]]", [1, [2, [3]]]), (#"{"a":{"b":[]}}"#, ["a": ["b": []]]),
            ("1.5", 1.5), ("1E2", 100.0), ("1e+2", 100.0), ("-0.25e-1", -0.025),
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"), (#""\u0041\u00e9\u4F60\ud83d\ude00""#, "Aé你😀"),
            (#""\u0000""#, "\u{0}"), ("\"é😀\"", "é😀"), ("\"\u{7F}\"", "\u{7F}"),
        ]
        for (text, expected) in cases {
            #expect(try JSONParser.parse(text) == expected, "\(text)")
        }
    }

    @Test func rejectsWhatRFC8259Rejects() {
        let cases: [(text: String, offset: Int, mentions: String)] = [
            ("", 0, "expected a value, got the end of the text"),
            ("  ", 2, "expected a value"),
            ("[1,]", 3, "expected a value, got ']'"),
            (#"{"a":1,}"#, 7, "expected a string key, got '}'"),
            ("{a:1}", 1, "expected a string key, got 'a'"),
            (#"{"a" 1}"#, 5, "expected ':' after a key, got '1'"),
            ("[1 2]", 3, "expected ',' or ']' after an array element, got '2'"),
            (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after an object member"),
            ("01", 1, "after a leading 0, got '1'"),
            ("1.", 2, "expected a digit after '.'"),
            (".5", 0, "expected a value, got '.'"),
            ("+1", 0, "expected a value, got '+'"),
            ("-", 1, "expected a digit, got the end of the text"),
            ("1e", 2, "expected a digit in the exponent"),
            ("tru", 3, "expected true, got the end of the text"),
            ("nulL", 3, "expected null, got 'L'"),
            ("NaN", 0, "expected a value, got 'N'"),
            ("Infinity", 0, "expected a value, got 'I'"),
            ("-Infinity", 1, "expected a digit, got 'I'"),
            ("1 2", 2, "expected the end of the text after the value, got '2'"),
            ("\"abc", 4, "expected '\"' closing the string, got the end of the text"),
            ("\"a\tb\"", 2, "unescaped control character 0x9"),
            (#""\x""#, 1, #"invalid escape '\x'"#),
            (#""\u12G4""#, 5, "expected 4 hex digits, got 'G'"),
            (#""\u12"#, 5, "expected 4 hex digits, got the end of the text"),
            ("\u{FEFF}{}", 0, "expected a value, got '\u{FEFF}'"),
            ("'a'", 0, "expected a value, got '''"),
        ]
        for (text, offset, mentions) in cases {
            let error = parseError(text)
            #expect(error?.offset == offset, "\(text): \(String(describing: error))")
            #expect(error?.description.contains(mentions) == true, "\(text): \(String(describing: error))")
        }
    }

    @Test func duplicateKeysAreRejectedOrKeepTheLastValue() throws {
        let text = #"{"w": 1, "x": {"y": 2}, "w": 3}"#
        let error = parseError(text)
        #expect(error?.reason == .duplicateKey("w"))
        #expect(error?.offset == 24)
        #expect(error?.description == #"duplicate key "w" (keys must be unique) at byte 24"#)
        #expect(error?.line == 1 && error?.column == 25)
        let nested = parseError(#"{"__metadata__": {"k": "a", "k": "b"}}"#)
        #expect(nested?.reason == .duplicateKey("k"))
        #expect(nested?.path == "__metadata__")

        // Python: the key stays where it first stood and takes the last value.
        let python = try JSONParser.parse(text, options: .python)
        #expect(python == ["w": 3, "x": ["y": 2]])
        // Keys are compared by code points: "é" and "e\u{301}" are two keys, as in Python.
        let accents = try JSONParser.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(accents.objectMembers?.count == 2)
        #expect(accents["e\u{301}"] == 2 && accents["\u{E9}"] == 1)
    }

    @Test func duplicateKeysInLargeObjectsUseTheHashIndex() throws {
        let keys = (0..<100).map { "key\($0)" }
        let body = keys.enumerated().map { "\"\($1)\": \($0)" }.joined(separator: ", ")
        let unique = try JSONParser.parse("{\(body)}")
        #expect(unique.objectMembers?.map(\.key) == keys)
        #expect(unique["key99"] == 99)
        let error = parseError("{\(body), \"key57\": 0, \"key100\": 1}")
        #expect(error?.reason == .duplicateKey("key57"))
        let python = try JSONParser.parse("{\(body), \"key57\": -1, \"key100\": 1}", options: .python)
        #expect(python.objectMembers?.count == 101)
        #expect(python.objectMembers?[57] == JSONMember(key: "key57", value: -1))
    }

    @Test func errorsCarryLineColumnAndPath() {
        let text = "{\n  \"messages\": [\n    {\"role\": \"user\", \"content\": \"hi\"},\n    {\"role\": \"assistant\" \"content\": 1}\n  ]\n}"
        let error = parseError(text)
        #expect(error?.line == 4)
        #expect(error?.column == 26)
        #expect(error?.path == "messages[1]")
        #expect(error?.description == "expected ',' or '}' after an object member, got '\"' at byte 82 (line 4, column 26) in the value of messages[1]")
        #expect(parseError(#"{"a": {"b": [0, {"c": tru}]}}"#)?.path == "a.b[1].c")
        #expect(parseError(#"[[0, 1, [x]]]"#)?.path == "[0][2][0]")
    }

    @Test func nestingIsCapped() throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try JSONParser.parse(deepest) != .null)
        let objects = String(repeating: #"{"a":"#, count: 512) + "1" + String(repeating: "}", count: 512)
        #expect(try JSONParser.parse(objects) != .null)
        let error = parseError("[" + deepest + "]")
        #expect(error?.reason == .tooDeep(limit: 512))
        #expect(error?.offset == 512)
        // Far deeper than any stack could recurse: refused at the limit, not a crash.
        #expect(parseError(String(repeating: "[", count: 1_000_000))?.reason == .tooDeep(limit: 512))
        #expect(parseError("[[[1]]]", options: JSONParser.Options(maxDepth: 2))?.reason == .tooDeep(limit: 2))
    }

    @Test func invalidUTF8IsRefusedAtItsOffset() {
        let cases: [(bytes: [UInt8], offset: Int)] = [
            ([0x22, 0x61, 0xFF, 0x22], 2),  // never valid
            ([0x22, 0x61, 0x80, 0x22], 2),  // lone continuation byte
            ([0x22, 0xC0, 0x80, 0x22], 1),  // overlong NUL
            ([0x22, 0xE0, 0x80, 0x80, 0x22], 1),  // overlong 3-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // UTF-16 surrogate D800 in UTF-8
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // past U+10FFFF
            ([0x22, 0xC3, 0x22], 1),  // truncated before the closing quote
            ([0x22] + Array("abcdefghijklmnop".utf8) + [0xC3, 0x28, 0x22], 17),  // after a fast-scanned run
            ([0x22, 0x5C, 0x6E, 0xE9, 0x22], 3),  // after an escape
            ([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], 2),  // in a key
        ]
        for (bytes, offset) in cases {
            let error = jsonError { () throws(JSONError) in _ = try JSONParser.parse(bytes) }
            #expect(error?.reason == .invalidUTF8, "\(bytes)")
            #expect(error?.offset == offset, "\(bytes): \(String(describing: error))")
        }
        // Outside strings a non-ASCII byte is just not JSON.
        let outside = jsonError { () throws(JSONError) in _ = try JSONParser.parse([0x5B, 0xFF, 0x5D]) }
        #expect(outside?.description.hasPrefix("expected a value, got byte 0xFF at byte 1") == true)
    }

    @Test func surrogateEscapes() throws {
        #expect(try JSONParser.parse(#""\uD83D\uDE00""#) == "😀")
        let lone = parseError(#""a\ud800b""#)
        #expect(lone?.reason == .invalidEscape(#"\uD800: a lone UTF-16 surrogate"#))
        #expect(lone?.offset == 2)
        #expect(parseError(#""\udc00""#)?.offset == 1)
        #expect(parseError(#""\ud800\u0041""#)?.offset == 1)
        // Python keeps lone surrogates; a Swift string cannot, so they become U+FFFD.
        #expect(try JSONParser.parse(#""a\ud800b\udc00\ud800\u0041""#, options: .python) == "a\u{FFFD}b\u{FFFD}\u{FFFD}A")
    }

    @Test func pythonAcceptsNonFiniteNumbers() throws {
        let value = try JSONParser.parse("[NaN, Infinity, -Infinity, 1e400]", options: .python)
        let numbers = (value.arrayValue ?? []).compactMap { $0.numberValue }
        #expect(numbers.map(\.text) == ["NaN", "Infinity", "-Infinity", "1e400"])
        #expect(numbers[0].doubleValue.isNaN)
        #expect(numbers.dropFirst().map(\.doubleValue) == [.infinity, -.infinity, .infinity])
        #expect(value.pythonJSONString() == "[NaN, Infinity, -Infinity, Infinity]")
        #expect(parseError("[Nan]", options: .python)?.description.hasPrefix("expected NaN") == true)
    }

    @Test func numbersKeepTheirText() throws {
        let value = try JSONParser.parse("[18446744073709551615, 123456789012345678901234567890, -0, 1e400, 1e-400, 4096.0, 4.096e3, 2.5, -9007199254740993]")
        let numbers = (value.arrayValue ?? []).compactMap { $0.numberValue }
        #expect(numbers.map(\.text) == ["18446744073709551615", "123456789012345678901234567890", "-0", "1e400", "1e-400",
                                        "4096.0", "4.096e3", "2.5", "-9007199254740993"])
        #expect(numbers.map(\.isInteger) == [true, true, true, false, false, false, false, false, true])
        #expect(numbers.map(\.intValue) == [nil, nil, 0, nil, nil, nil, nil, nil, -9_007_199_254_740_993])
        #expect(numbers.map(\.integralValue) == [nil, nil, 0, nil, 0, 4096, 4096, nil, -9_007_199_254_740_993])
        #expect(numbers[1].doubleValue == 1.2345678901234568e29)
        #expect(numbers[3].doubleValue == .infinity && numbers[4].doubleValue == 0)
        #expect(value.pythonJSONString() == "[18446744073709551615, 123456789012345678901234567890, 0, Infinity, 0.0, 4096.0, 4096.0, 2.5, -9007199254740993]")
        #expect(UInt64(numbers[0].text) == .max)
    }

    @Test func inputsOfEveryShape() throws {
        let text = #"  {"a": [1, "x"]}  "#
        let expected: JSONValue = ["a": [1, "x"]]
        #expect(try JSONParser.parse(text) == expected)
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
        #expect(try JSONParser.parse(Data(text.utf8)) == expected)
        #expect(try JSONParser.parse(text.utf8.lazy.map { $0 }) == expected)  // not contiguous: copied
        #expect(try Array(text.utf8).withUnsafeBytes { try JSONParser.parse($0) } == expected)
        // A slice counts offsets from its own start.
        let line = Array("xxxx{\"a\": ?}".utf8)[4...]
        #expect(jsonError { () throws(JSONError) in _ = try JSONParser.parse(line) }?.offset == 6)
    }

    @Test func topLevelArrays() throws {
        let text = "[\n  {\"a\": 1},\n  2,\n  []\n]\n"
        let elements = try JSONParser.parseTopLevelArray(Array(text.utf8))
        #expect(elements.map(\.offset) == [4, 16, 21])
        #expect(elements.map(\.value) == [["a": 1], 2, []])
        #expect(try JSONParser.parseTopLevelArray(Array(" [ ] ".utf8)).isEmpty)
        let notArray = jsonError { () throws(JSONError) in _ = try JSONParser.parseTopLevelArray(Array(" {}".utf8)) }
        #expect(notArray?.description.hasPrefix("expected '[' (a JSON array), got '{' at byte 1") == true)
        let bad = jsonError { () throws(JSONError) in _ = try JSONParser.parseTopLevelArray(Array("[{},\n{\"a\" 1}]".utf8)) }
        #expect(bad?.line == 2 && bad?.path == "[1]")
        let trailing = jsonError { () throws(JSONError) in _ = try JSONParser.parseTopLevelArray(Array("[] []".utf8)) }
        #expect(trailing?.offset == 3)
        let duplicate = jsonError { () throws(JSONError) in
            _ = try JSONParser.parseTopLevelArray(Array(#"[{"a": 1, "a": 2}]"#.utf8))
        }
        #expect(duplicate?.reason == .duplicateKey("a"))
        #expect(try JSONParser.parseTopLevelArray(Array(#"[{"a": 1, "a": 2}]"#.utf8), options: .python).map(\.value) == [["a": 2]])
    }

    @Test func longStringsWithEscapesAndNonASCII() throws {
        // Runs longer than the 8-byte fast scan, with every kind of break in them.
        let plain = String(repeating: "abcdefgh", count: 100)
        let mixed = String(repeating: "é你😀a", count: 50)
        for content in [plain, mixed, plain + "\n" + mixed, "\"" + plain + "\\", mixed + "\t"] {
            let encoded = JSONValue.string(content).pythonJSONString()
            #expect(try JSONParser.parse(encoded) == .string(content))
            let ascii = JSONValue.string(content).pythonJSONString(asciiOnly: true)
            #expect(try JSONParser.parse(ascii) == .string(content))
        }
    }
}
