import SwiftTuneJSON

/// The `json` target: the bytes parsed strictly and as Python's `json.loads`, as a document and as a top-level array.
/// Invariants: what the strict mode accepts, the Python mode accepts with the same value (it only adds syntax); a
/// document that is an array parses as a top-level array to the same elements.
enum JSONFuzzing {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        var refusals: [String] = []
        var strict: JSONValue?
        var python: JSONValue?
        do { strict = try JSONParser.parse(bytes, options: .strict) } catch { refusals.append("strict: \(error)") }
        do { python = try JSONParser.parse(bytes, options: .python) } catch { refusals.append("python: \(error)") }
        if let strict, python != strict {
            return .unexpected("strict parsed \(strict.summary), python \(python.map(\.summary) ?? "nothing")")
        }
        for (options, document) in [(JSONParser.Options.strict, strict), (.python, python)] {
            do {
                let elements = try JSONParser.parseTopLevelArray(bytes, options: options)
                if case let .array(items)? = document, items != elements.map(\.value) {
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
