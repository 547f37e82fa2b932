import SwiftTuneJSON

/// The `json` target: the bytes parsed strictly and as Python's `json.loads`, as a document and as a top-level array.
/// Invariants: what the strict mode accepts, the Python mode accepts with the same value (it only adds syntax); a
/// document that is an array parses as a top-level array to the same elements. "The same" is `identical`, not `==`:
/// JSON's `==` follows Python, where `NaN` equals nothing, so a document with a `NaN` would never equal itself.
enum JSONFuzzing {
    /// The same tree: equal literals, strings with the same UTF-8, members in the same order with the same keys.
    static func identical(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (nil, nil), (.null?, .null?): true
        case let (.bool(x)?, .bool(y)?): x == y
        case let (.number(x)?, .number(y)?): x.text == y.text
        case let (.string(x)?, .string(y)?): x.utf8.elementsEqual(y.utf8)
        case let (.array(x)?, .array(y)?): x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
        case let (.object(x)?, .object(y)?):
            x.count == y.count && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && identical($0.value, $1.value) }
        default: false
        }
    }

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        var refusals: [String] = []
        var strict: JSONValue?
        var python: JSONValue?
        do { strict = try JSONParser.parse(bytes, options: .strict) } catch { refusals.append("strict: \(error)") }
        do { python = try JSONParser.parse(bytes, options: .python) } catch { refusals.append("python: \(error)") }
        if let strict, !identical(python, strict) {
            return .unexpected("strict parsed \(strict.summary), python \(python.map(\.summary) ?? "nothing")")
        }
        for (options, document) in [(JSONParser.Options.strict, strict), (.python, python)] {
            do {
                let elements = try JSONParser.parseTopLevelArray(bytes, options: options)
                if case let .array(items)? = document, !identical(.array(items), .array(elements.map(\.value))) {
                    return .unexpected("the top-level array differs from the document's array")
                }
            } catch {
                if case .array? = document { return .unexpected("an array document failed as a top-level array: \(error)") }
                refusals.append("array: \(error)")
            }
        }
        return refusals.isEmpty ? .accepted : .refused(refusals.joined(separator: "; "))
    }
}
