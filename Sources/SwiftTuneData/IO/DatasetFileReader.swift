import Foundation
import SwiftTuneChat
import SwiftTuneJSON

/// Reads dataset files record by record: JSON arrays, JSON Lines (`.jsonl`, or a `.json` that is not an array),
/// CSV with a header row (RFC 4180 quoting, embedded newlines), or a folder of such files.
///
/// JSON Lines are streamed in 1 MiB chunks; a line is held only while it is parsed, and a line longer than
/// `maxLineBytes` is skipped without being held. JSON arrays and CSV files are read whole.
public struct DatasetFileReader: Sendable {
    /// Lines longer than this are reported as ``RowProblem/lineTooLong`` (default 16 MiB).
    public var maxLineBytes: Int

    public init(maxLineBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// The dataset files under `path` (itself if a file), sorted, with a supported extension.
    public static func files(at path: String) throws(DataError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadableFile(path: path, reason: "no such file or folder")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw .unreadableFile(path: path, reason: "cannot list the folder")
        }
        var out: [String] = []
        while let item = enumerator.nextObject() as? String {
            let ext = (item as NSString).pathExtension.lowercased()
            if ["json", "jsonl", "csv"].contains(ext) { out.append((path as NSString).appendingPathComponent(item)) }
        }
        if out.isEmpty { throw .unsupportedFormat(path: path, detail: "the folder has no .json, .jsonl or .csv file") }
        return out.sorted()
    }

    /// Calls `body` for every record of the file or folder at `path`, in order.
    public func forEachRecord(at path: String, _ body: (RawRecord) throws(DataError) -> Void) throws(DataError) {
        for file in try Self.files(at: path) {
            switch (file as NSString).pathExtension.lowercased() {
            case "jsonl": try readJSONLines(file, body)
            case "json":
                if try Self.firstNonSpaceByte(file) == UInt8(ascii: "[") { try readJSONArray(file, body) } else { try readJSONLines(file, body) }
            case "csv": try readCSV(file, body)
            default: throw .unsupportedFormat(path: file, detail: "unknown extension")
            }
        }
    }

    static func firstNonSpaceByte(_ path: String) throws(DataError) -> UInt8? {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadableFile(path: path, reason: "cannot open") }
        defer { try? handle.close() }
        while true {
            guard let chunk = try? handle.read(upToCount: 4096), !chunk.isEmpty else { return nil }
            // Skip a UTF-8 byte-order mark and whitespace.
            for b in chunk where !(b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0xEF || b == 0xBB || b == 0xBF) {
                return b
            }
        }
    }

    /// Fields of one parsed JSON record (must be an object), read as Python's `json.loads` reads it.
    static func objectFields(_ bytes: ArraySlice<UInt8>, location: RowLocation) -> Result<[JSONMember], DataError> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, options: .python)
        } catch {
            // The parser checks UTF-8 inside strings; a bad byte elsewhere is reported as bad UTF-8 too.
            if let offset = error.reason == .invalidUTF8 ? error.offset : firstInvalidUTF8(bytes) {
                return .failure(.badRow(location: location, problem: .invalidUTF8, key: nil,
                                        detail: "invalid UTF-8 at byte \(offset). Hint: re-encode the file as UTF-8."))
            }
            return .failure(.badRow(location: location, problem: .malformedJSON, key: nil,
                                    detail: "\(error). Hint: each line must be one complete JSON object."))
        }
        guard let members = value.objectMembers else {
            return .failure(.badRow(location: location, problem: .noUsableFields, key: nil,
                                    detail: "expected a JSON object, got \(value.typeDescription)"))
        }
        return .success(members)
    }

    /// The offset of the first byte that is not well-formed UTF-8 (from the start of `bytes`), nil if all are.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard String(validating: bytes, as: UTF8.self) == nil else { return nil }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var consumed = 0
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): consumed += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return consumed
            }
        }
    }

    func readJSONLines(_ path: String, _ body: (RawRecord) throws(DataError) -> Void) throws(DataError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadableFile(path: path, reason: "cannot open") }
        defer { try? handle.close() }
        var line: [UInt8] = []
        var lineNumber = 1
        var overflow = 0  // bytes of the current line beyond the limit (the line is then dropped, not held)
        func finish() throws(DataError) {
            defer { line.removeAll(keepingCapacity: line.count < (1 << 20)); overflow = 0; lineNumber += 1 }
            let location = RowLocation(file: path, line: lineNumber)
            if overflow > 0 {
                try body(RawRecord(location: location, fields: .failure(.badRow(
                    location: location, problem: .lineTooLong, key: nil,
                    detail: "line has \(line.count + overflow) bytes, more than the limit of \(maxLineBytes). "
                        + "Hint: split the row or raise max_line_bytes."))))
                return
            }
            var slice = line[...]
            if lineNumber == 1, slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
            while let last = slice.last, last == 0x0D || last == 0x20 || last == 0x09 { slice = slice.dropLast() }
            while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
            if slice.isEmpty { return }
            try body(RawRecord(location: location, fields: Self.objectFields(slice, location: location)))
        }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw .unreadableFile(path: path, reason: "\(error)")
            }
            if chunk.isEmpty { break }
            var start = chunk.startIndex
            while start < chunk.endIndex {
                if let newline = chunk[start...].firstIndex(of: 0x0A) {
                    append(chunk[start..<newline], to: &line, overflow: &overflow)
                    try finish()
                    start = newline + 1
                } else {
                    append(chunk[start...], to: &line, overflow: &overflow)
                    break
                }
            }
        }
        if !line.isEmpty || overflow > 0 { try finish() }
    }

    private func append(_ bytes: Data, to line: inout [UInt8], overflow: inout Int) {
        if overflow > 0 || line.count + bytes.count > maxLineBytes {
            overflow += bytes.count + line.count
            line.removeAll()
        } else {
            line.append(contentsOf: bytes)
        }
    }

    func readJSONArray(_ path: String, _ body: (RawRecord) throws(DataError) -> Void) throws(DataError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path: path, reason: "cannot read") }
        let bytes = [UInt8](data)
        let elements: [(offset: Int, value: JSONValue)]
        do { elements = try JSONParser.parseTopLevelArray(bytes, options: .python) } catch {
            throw .badRow(location: RowLocation(file: path, line: error.line), problem: .malformedJSON, key: nil,
                          detail: "\(error); the whole JSON array is unusable. Hint: validate the file with `python3 -m json.tool`.")
        }
        var line = 1, scanned = 0
        for (index, element) in elements.enumerated() {
            while scanned < element.offset { if bytes[scanned] == 0x0A { line += 1 }; scanned += 1 }
            let location = RowLocation(file: path, line: line, element: index)
            if let members = element.value.objectMembers {
                try body(RawRecord(location: location, fields: .success(members)))
            } else {
                try body(RawRecord(location: location, fields: .failure(.badRow(
                    location: location, problem: .noUsableFields, key: nil,
                    detail: "expected a JSON object, got \(element.value.typeDescription)"))))
            }
        }
    }

    func readCSV(_ path: String, _ body: (RawRecord) throws(DataError) -> Void) throws(DataError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path: path, reason: "cannot read") }
        guard var text = String(data: data, encoding: .utf8) else {
            throw .badRow(location: RowLocation(file: path), problem: .invalidUTF8, key: nil, detail: "the CSV file is not UTF-8")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var header: [String]?
        try CSVParser.forEachRecord(text) { (fields: [String], line: Int) throws(DataError) in
            guard let names = header else { header = fields; return }
            let location = RowLocation(file: path, line: line)
            if fields.count == 1 && fields[0].isEmpty { return }  // blank line
            guard fields.count == names.count else {
                try body(RawRecord(location: location, fields: .failure(.badRow(
                    location: location, problem: .malformedJSON, key: nil,
                    detail: "CSV record has \(fields.count) fields, the header has \(names.count). Hint: quote fields that contain commas."))))
                return
            }
            try body(RawRecord(location: location, fields: .success(zip(names, fields).map { JSONMember(key: $0, value: .string($1)) })))
        }
    }
}

/// RFC 4180 CSV: comma-separated, `"` quoting with `""` escapes, newlines inside quotes.
enum CSVParser {
    /// Calls `body` with each record's fields and the 1-based line where the record starts.
    static func forEachRecord(_ text: String, _ body: ([String], Int) throws(DataError) -> Void) throws(DataError) {
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1, recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        var fieldStarted = false
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return scalars.next()
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where !fieldStarted || field.isEmpty:
                inQuotes = true; fieldStarted = true
            case ",":
                fields.append(field); field = ""; fieldStarted = false
            case "\r":
                continue
            case "\n":
                fields.append(field); field = ""; fieldStarted = false
                try body(fields, recordLine)
                fields = []
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(c); fieldStarted = true
            }
        }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); try body(fields, recordLine) }
    }
}
