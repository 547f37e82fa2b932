import SwiftTuneJSON

/// Where one tensor lives in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's key in the header.
    public let name: String
    /// Element type as stored.
    public let dtype: SafetensorsDType
    /// Row-major shape; `[]` is a 0-dim scalar, a 0 anywhere makes it empty.
    public let shape: [Int]
    /// `data_offsets` as written: bytes relative to the start of the data buffer, end exclusive.
    public let dataOffsets: Range<Int>
    /// The same bytes as offsets into the whole file (`dataOffsets` shifted by 8 + header length).
    public let fileRange: Range<Int>

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of data bytes.
    public var byteCount: Int { dataOffsets.count }
}

/// A parsed and fully validated safetensors header (https://github.com/huggingface/safetensors#format).
///
/// Layout: `u64 LE N`, `N` bytes of UTF-8 JSON starting with `{`, then the data buffer. Validation follows the
/// reference reader and is strict: known dtypes, `begin ≤ end`, byte size = shape product × dtype size,
/// offsets inside the buffer, no duplicate keys (``JSONParser/Options/strict``), no overlaps, and the tensors cover the buffer without holes.
struct SafetensorsHeader {
    /// The reference reader's limit on `N`.
    static let maxHeaderLength = 100_000_000
    static let metadataKey = "__metadata__"

    /// Tensors sorted by data offset (file order).
    let tensors: [SafetensorsTensorInfo]
    /// The optional `__metadata__` string map.
    let metadata: [String: String]?
    /// File offset of the data buffer (8 + N).
    let dataStart: Int

    /// Parses the header at the start of `file` (the whole file's bytes); `path` goes into error messages.
    init(file: UnsafeRawBufferPointer, path: String) throws(CheckpointError) {
        guard file.count >= 8 else {
            throw .invalidHeader(path: path, field: "header length",
                                 reason: "the file is \(file.count) bytes, too short for the 8-byte header length")
        }
        var length: UInt64 = 0
        for byte in (0..<8).reversed() { length = length << 8 | UInt64(file[byte]) }
        guard length <= UInt64(Self.maxHeaderLength) else {
            throw .invalidHeader(path: path, field: "header length",
                                 reason: "\(length) bytes exceeds the limit of \(Self.maxHeaderLength)")
        }
        let headerLength = Int(length)
        guard 8 + headerLength <= file.count else {
            throw .invalidHeader(path: path, field: "header length",
                                 reason: "\(headerLength) bytes runs past the end of the file "
                                     + "(expected at most \(file.count - 8), the file is \(file.count) bytes)")
        }
        let json = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        guard json.first == UInt8(ascii: "{") else {
            let got = json.first.map { "byte 0x" + String($0, radix: 16) } ?? "an empty header"
            throw .invalidHeader(path: path, field: "header JSON", reason: "expected an object starting with '{', got \(got)")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(json, options: .strict)
        } catch {
            if case let .duplicateKey(key) = error.reason, error.path.isEmpty { throw .duplicateKey(path: path, key: key) }
            // The parser checks UTF-8 inside strings; a stray byte elsewhere is also a UTF-8 problem to the user.
            if error.reason == .invalidUTF8 || String(validating: json, as: UTF8.self) == nil {
                throw .invalidHeader(path: path, field: "header JSON", reason: "the header is not valid UTF-8")
            }
            throw .invalidHeader(path: path, field: "header JSON", reason: "not valid JSON at header byte \(error.offset): "
                                     + error.message + (error.path.isEmpty ? "" : " in \(error.path)"))
        }
        guard case let .object(members) = root else {
            throw .invalidHeader(path: path, field: "header JSON", reason: "expected an object, got \(root.summary)")
        }
        dataStart = 8 + headerLength
        let bufferSize = file.count - dataStart

        var metadata: [String: String]?
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(members.count)
        for member in members {
            if member.key == Self.metadataKey {
                metadata = try Self.parseMetadata(member.value, path: path)
            } else {
                tensors.append(try Self.parseEntry(member, path: path, dataStart: dataStart, bufferSize: bufferSize))
            }
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        try Self.checkCoverage(tensors, bufferSize: bufferSize, path: path)
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws(CheckpointError) -> [String: String] {
        guard case let .object(members) = value else {
            throw .invalidEntry(path: path, key: metadataKey, field: "", expected: "an object of strings", got: value.summary)
        }
        var result: [String: String] = [:]
        for member in members {
            guard case let .string(text) = member.value else {
                throw .invalidEntry(path: path, key: metadataKey, field: member.key, expected: "a string", got: member.value.summary)
            }
            result[member.key] = text
        }
        return result
    }

    private static func parseEntry(_ member: JSONMember, path: String, dataStart: Int,
                                   bufferSize: Int) throws(CheckpointError) -> SafetensorsTensorInfo {
        let key = member.key
        guard case .object = member.value else {
            throw .invalidEntry(path: path, key: key, field: "", expected: "an object with dtype, shape and data_offsets",
                                got: member.value.summary)
        }
        func field(_ name: String) throws(CheckpointError) -> JSONValue {
            guard let value = member.value[name] else {
                throw .invalidEntry(path: path, key: key, field: name, expected: "a value", got: "nothing (missing)")
            }
            return value
        }
        func integers(_ name: String, _ expected: String) throws(CheckpointError) -> [Int] {
            let value = try field(name)
            guard case let .array(items) = value else {
                throw .invalidEntry(path: path, key: key, field: name, expected: expected, got: value.summary)
            }
            var result: [Int] = []
            for item in items {
                guard let number = item.intValue, number >= 0 else {
                    throw .invalidEntry(path: path, key: key, field: name, expected: expected, got: "an element \(item.summary)")
                }
                result.append(number)
            }
            return result
        }

        let dtypeValue = try field("dtype")
        guard case let .string(dtypeName) = dtypeValue else {
            throw .invalidEntry(path: path, key: key, field: "dtype", expected: "a string", got: dtypeValue.summary)
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(path: path, key: key, dtype: dtypeName)
        }
        let shape = try integers("shape", "an array of non-negative integers")
        let offsets = try integers("data_offsets", "[begin, end] with non-negative integers")
        guard offsets.count == 2 else {
            throw .invalidEntry(path: path, key: key, field: "data_offsets", expected: "[begin, end]",
                                got: "\(offsets.count) numbers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw .invalidEntry(path: path, key: key, field: "data_offsets", expected: "begin ≤ end", got: "[\(begin), \(end)]")
        }
        guard end <= bufferSize else {
            throw .offsetsOutOfRange(path: path, key: key, begin: begin, end: end, bufferSize: bufferSize)
        }
        guard let expected = dtype.byteCount(shape: shape), expected == end - begin else {
            let expected = dtype.byteCount(shape: shape).map { "\($0)" } ?? "an overflowing or fractional number of"
            throw .sizeMismatch(path: path, key: key, shape: shape, dtype: dtypeName, expectedBytes: expected, gotBytes: end - begin)
        }
        return SafetensorsTensorInfo(name: key, dtype: dtype, shape: shape, dataOffsets: begin..<end,
                                     fileRange: (dataStart + begin)..<(dataStart + end))
    }

    /// With `tensors` sorted by offset, each must start exactly where the previous ended and the last must end
    /// at the end of the buffer. Reported separately as overlap or hole so the message says which.
    private static func checkCoverage(_ tensors: [SafetensorsTensorInfo], bufferSize: Int,
                                      path: String) throws(CheckpointError) {
        var cursor = 0
        var previous: String?
        for tensor in tensors {
            let begin = tensor.dataOffsets.lowerBound
            if begin < cursor, let previous {
                throw .overlappingTensors(path: path, key: tensor.name, other: previous, begin: begin, otherEnd: cursor)
            }
            if begin > cursor {
                throw .bufferHole(path: path, begin: cursor, end: begin, after: previous, before: tensor.name)
            }
            cursor = tensor.dataOffsets.upperBound
            previous = tensor.name
        }
        if cursor < bufferSize {
            throw .bufferHole(path: path, begin: cursor, end: bufferSize, after: previous, before: nil)
        }
    }
}
