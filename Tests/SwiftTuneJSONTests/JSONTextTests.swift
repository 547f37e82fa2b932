import SwiftTuneJSON
import Testing

/// Goldens from CPython 3's `json`:
///
///     v = json.loads(SOURCE)
///     json.dumps(v, ensure_ascii=False); json.dumps(v); json.dumps(v, indent=2, sort_keys=True)
@Suite struct JSONTextTests {
    static let source = #"{"b": 1, "a": [true, null, 2.5, "\u00e9\n"], "c": {"z": -3e2}, "big": 123456789012345678901234567890, "neg0": -0, "f": 1e400, "tiny": 1e-7, "mid": 9.5e15, "emoji": "\ud83d\ude00 \u007f \u0001", "e": [], "o": {}}"#

    @Test func matchesPythonJSONDumps() throws {
        let value = try JSONParser.parse(Self.source)
        #expect(value.pythonJSONString() == #"{"b": 1, "a": [true, null, 2.5, "é\n"], "c": {"z": -300.0}, "big": 123456789012345678901234567890, "neg0": 0, "f": Infinity, "tiny": 1e-07, "mid": 9500000000000000.0, "emoji": "😀 "# + "\u{7F}" + #" \u0001", "e": [], "o": {}}"#)
        #expect(value.pythonJSONString(asciiOnly: true) == #"{"b": 1, "a": [true, null, 2.5, "\u00e9\n"], "c": {"z": -300.0}, "big": 123456789012345678901234567890, "neg0": 0, "f": Infinity, "tiny": 1e-07, "mid": 9500000000000000.0, "emoji": "\ud83d\ude00 \u007f \u0001", "e": [], "o": {}}"#)
        #expect(value.pythonJSONString(indent: 2, sortKeys: true, asciiOnly: true) == #"""
            {
              "a": [
                true,
                null,
                2.5,
                "\u00e9\n"
              ],
              "b": 1,
              "big": 123456789012345678901234567890,
              "c": {
                "z": -300.0
              },
              "e": [],
              "emoji": "\ud83d\ude00 \u007f \u0001",
              "f": Infinity,
              "mid": 9500000000000000.0,
              "neg0": 0,
              "o": {},
              "tiny": 1e-07
            }
            """#)
    }

    /// `[repr(float(x)) for x in ...]`
    @Test func pythonFloatRepr() {
        let cases: [(Double, String)] = [
            (1e16, "1e+16"), (9.5e15, "9500000000000000.0"), (1e15, "1000000000000000.0"), (0.0001, "0.0001"),
            (1e-5, "1e-05"), (-0.0, "-0.0"), (.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (100, "100.0"), (0.1, "0.1"), (2.5e-05, "2.5e-05"), (1e22, "1e+22"), (123456789.125, "123456789.125"),
            (-9.5e15, "-9500000000000000.0"), (.nan, "NaN"), (.infinity, "Infinity"), (-.infinity, "-Infinity"),
        ]
        for (value, repr) in cases {
            #expect(JSONText.pythonFloat(value) == repr)
        }
    }

    @Test func quotedLikeSerdeAndPython() {
        let text = "a\"b\\c\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}é😀/"
        #expect(JSONText.quoted(text) == #""a\"b\\c\b\f\n\r\t\u0001\u001f"# + "\u{7F}é😀/\"")
        #expect(JSONText.quoted(text, asciiOnly: true) == #""a\"b\\c\b\f\n\r\t\u0001\u001f\u007f\u00e9\ud83d\ude00/""#)
        #expect(JSONText.quoted("plain") == "\"plain\"")
    }
}
