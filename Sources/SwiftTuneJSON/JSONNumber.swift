/// A JSON number kept as its literal text, so nothing is lost before the caller picks a type: `18446744073709551615`
/// stays exact, `-0` and `1e400` stay what they were written as.
///
/// Like Python's `json`, a literal without fraction or exponent is an integer (`3`), anything else a float
/// (`3.0`, `3e0`); `NaN`, `Infinity` and `-Infinity` are floats, parsed only when
/// ``JSONParser/Options/allowsNonFiniteNumbers`` is set.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral
{
    /// The literal as written in the JSON text (or as made by an initializer).
    public let text: String

    /// `text` must already match the JSON number grammar (or be one of the three non-finite names).
    init(validatedText text: String) { self.text = text }

    public init(_ value: some BinaryInteger) { text = String(value) }

    /// A float, written as Python's `repr` writes it (`2.5`, `1e-05`, `100.0`, `NaN`, `Infinity`), so it stays
    /// a float (`1.0` is not the integer `1`).
    public init(_ value: Double) { text = JSONText.pythonFloat(value) }

    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }

    /// Whether the literal is an integer: no `.`, no exponent, not `NaN`/`Infinity`.
    public var isInteger: Bool {
        !text.utf8.contains { byte in
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "N") || byte == UInt8(ascii: "I")
        }
    }

    /// The value of an integer literal that fits in `Int`; nil for floats (even `1.0`) and for overflow.
    public var intValue: Int? { isInteger ? Int(text) : nil }

    /// The nearest `Double`: `1e400` is infinity, `1e-400` is 0, a 30-digit integer is rounded.
    public var doubleValue: Double { Double(text) ?? .nan }

    /// The integer however it is written (`4096`, `4096.0`, `4.096e3`); nil for fractions, overflow, and floats
    /// beyond ±2^53, where a `Double` no longer tells whole numbers apart.
    public var integralValue: Int? {
        if isInteger { return Int(text) }
        let value = doubleValue
        guard value.rounded() == value, abs(value) <= 0x1p53 else { return nil }
        return Int(value)
    }

    /// Integers are equal when their values are (`-0` is `0`), floats when their `Double`s are (so `1e2` equals
    /// `100.0`, and `NaN` equals nothing); an integer never equals a float, as Python's `json.dumps` tells them
    /// apart (`1` versus `1.0`).
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.isInteger, rhs.isInteger) {
        case (true, true): lhs.canonicalIntegerText == rhs.canonicalIntegerText
        case (false, false): lhs.doubleValue == rhs.doubleValue
        default: false
        }
    }

    /// An integer literal as Python's `str(int)` writes it: the grammar forbids leading zeros and `+`, so only
    /// `-0` has another spelling.
    var canonicalIntegerText: String { text == "-0" ? "0" : text }

    public var description: String { text }
}
