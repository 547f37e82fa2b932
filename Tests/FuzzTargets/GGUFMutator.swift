import SwiftTuneTensor

/// Structure-aware mutations for the `gguf` target: the input is walked as GGUF (leniently, stopping where it stops
/// making sense), every count, length, type, dimension, offset and the alignment is recorded with its place, and one
/// of them is overwritten with a value chosen for its kind (0, 1, the bytes left, powers of two, values whose
/// products overflow 64 bits). The header stays valid, so the fuzzer reaches the checks deep in the reader that
/// byte-level mutations rarely get past.
public enum GGUFMutator {
    /// What a recorded field holds, which decides the values tried.
    enum Kind: CaseIterable {
        case count, stringLength, valueType, dimensionCount, dimension, ggmlType, tensorOffset, alignment
    }

    struct Field {
        let offset: Int
        let width: Int
        let kind: Kind
    }

    /// Mutates `bytes` in place with the random stream `seed`; returns false when the input has no GGUF fields
    /// (the caller then uses a byte-level mutation).
    public static func mutate(_ bytes: inout [UInt8], seed: UInt32) -> Bool {
        let fields = walk(bytes)
        guard !fields.isEmpty else { return false }
        var random = SeededGenerator(seed: UInt64(seed))
        let rounds = 1 + Int(random.next() % 3)
        for _ in 0..<rounds {
            let field = fields[Int(random.next() % UInt64(fields.count))]
            let value = interesting(field.kind, fileSize: bytes.count, random: &random)
            for index in 0..<field.width { bytes[field.offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        }
        return true
    }

    static func interesting(_ kind: Kind, fileSize: Int, random: inout SeededGenerator) -> UInt64 {
        let size = UInt64(fileSize)
        let common: [UInt64] = [0, 1, 2, size, size / 2, size + 1, UInt64.max, UInt64.max / 2, 1 << 32, (1 << 32) + 1,
                                1 << 31, 1 << 62, 1 << 63, 0xFFFF_FFFF]
        let specific: [UInt64] = switch kind {
        case .count: [3, 255, 1 << 24, (1 << 24) + 1, UInt64.max / 8, UInt64.max / 24 + 1]
        case .stringLength: [63, 64, 65, 1 << 24, (1 << 24) + 1, size - 8]
        case .valueType: Array(0...13)
        case .dimensionCount: [0, 3, 4, 5, 8]
        case .dimension: [32, 256, 255, 3, 1 << 40, (1 << 62) / 32 * 32, 0x8000_0000_0000_0001]
        case .ggmlType: [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 29, 30, 31, 34, 35, 39, 42]
        case .tensorOffset: [32, 64, 31, UInt64.max - 31, size - 32]
        case .alignment: [3, 8, 16, 64, 1 << 16, 1 << 30]
        }
        let pool = common + specific
        return pool[Int(random.next() % UInt64(pool.count))]
    }

    /// The fields of `bytes` read as GGUF, as far as they make sense.
    static func walk(_ bytes: [UInt8]) -> [Field] {
        var fields: [Field] = []
        var position = 0
        func read(_ width: Int) -> UInt64? {
            guard position + width <= bytes.count else { return nil }
            var value: UInt64 = 0
            for index in (0..<width).reversed() { value = value << 8 | UInt64(bytes[position + index]) }
            position += width
            return value
        }
        func field(_ width: Int, _ kind: Kind) -> UInt64? {
            let at = position
            guard let value = read(width) else { return nil }
            fields.append(Field(offset: at, width: width, kind: kind))
            return value
        }
        func string() -> Bool {
            guard let length = field(8, .stringLength), length <= UInt64(bytes.count - position) else { return false }
            position += Int(length)
            return true
        }
        let sizes: [UInt64: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
        func value(_ type: UInt64, depth: Int) -> Bool {
            if let size = sizes[type] {
                if type == 4, let key = lastKey, key == "general.alignment" { return field(4, .alignment) != nil }
                return read(size) != nil
            }
            if type == 8 { return string() }
            guard type == 9, depth < 3, let element = field(4, .valueType), let count = field(8, .count) else { return false }
            for _ in 0..<min(count, 64) where !value(element, depth: depth + 1) { return false }
            // Long arrays: only the first elements carry fields; skip the rest when they have a fixed size.
            if count > 64, let size = sizes[element] {
                let rest = (count - 64).multipliedReportingOverflow(by: UInt64(size))
                guard !rest.overflow, rest.partialValue <= UInt64(bytes.count - position) else { return false }
                position += Int(rest.partialValue)
            } else if count > 64 {
                for _ in 64..<min(count, 1 << 20) where !value(element, depth: depth + 1) { return false }
            }
            return true
        }
        var lastKey: String?
        guard bytes.count >= 24, bytes.starts(with: Array("GGUF".utf8)) else { return [] }
        position = 8
        guard let tensorCount = field(8, .count), let metadataCount = field(8, .count) else { return fields }
        for _ in 0..<min(metadataCount, 1 << 16) {
            let keyStart = position + 8
            guard string() else { return fields }
            lastKey = String(decoding: bytes[keyStart..<position], as: UTF8.self)
            guard let type = field(4, .valueType), value(type, depth: 0) else { return fields }
        }
        for _ in 0..<min(tensorCount, 1 << 16) {
            guard string(), let count = field(4, .dimensionCount), count <= 8 else { return fields }
            for _ in 0..<count where field(8, .dimension) == nil { return fields }
            guard field(4, .ggmlType) != nil, field(8, .tensorOffset) != nil else { return fields }
        }
        return fields
    }
}
