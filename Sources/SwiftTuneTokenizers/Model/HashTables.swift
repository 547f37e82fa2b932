/// Hash tables for the BPE hot path: Swift's `Dictionary` hashes with SipHash and would need an array per
/// lookup, so these use a multiply-mix hash, open addressing (linear probing) and flat storage.

/// A 64-bit mix of a byte slice (8 bytes at a time).
@inline(__always)
func hashBytes(_ base: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
    var i = 0
    let raw = UnsafeRawPointer(base)
    while i + 8 <= count {
        h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        i += 8
    }
    if i < count {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    }
    h ^= h >> 29
    h = h &* 0xFF51_AFD7_ED55_8CCD
    return h ^ (h >> 32)
}

/// `UInt64` → `UInt64`, for merges: key `left << 32 | right` (token ids), value `rank << 32 | merged id`.
struct PairTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// Inserts unless the key is present; returns false when it was.
    @discardableResult
    mutating func insert(_ key: UInt64, _ value: UInt64) -> Bool {
        var i = slot(key)
        while keys[i] != Self.empty {
            if keys[i] == key { return false }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
        count += 1
        return true
    }

    /// Inserts or overwrites.
    mutating func set(_ key: UInt64, _ value: UInt64) {
        var i = slot(key)
        while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == Self.empty { count += 1 }
        keys[i] = key
        values[i] = value
    }

    @inline(__always)
    func lookup(_ key: UInt64) -> UInt64? {
        keys.withUnsafeBufferPointer { keys in
            var i = slot(key)
            while true {
                let k = keys[i]
                if k == key { return values[i] }
                if k == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}

/// Byte slices → runs of `Int32` values (a vocabulary's token bytes → id, or a word → its ids).
struct ByteSliceMap: Sendable {
    private struct Slot {
        var hash: UInt32
        var keyLength: UInt32
        var keyOffset: Int
        var valueOffset: Int
        var valueCount: Int
    }

    private var slots: [Slot]
    private var used: [Bool]
    private var keyBytes: [UInt8] = []
    private var valueStore: [Int32] = []
    private var mask: Int
    private(set) var count = 0
    /// Bytes of keys plus values held, to bound a cache.
    var storedSize: Int { keyBytes.count + 4 * valueStore.count }

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(hash: 0, keyLength: 0, keyOffset: 0, valueOffset: 0, valueCount: 0), count: size)
        used = [Bool](repeating: false, count: size)
        mask = size - 1
    }

    /// The values stored for `key`, handed to `body` (no copy), or nil when absent.
    @inline(__always)
    func withValues<R>(_ key: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R? {
        guard let base = key.baseAddress, count > 0 else { return nil }
        let hash = hashBytes(base, key.count)
        let short = UInt32(truncatingIfNeeded: hash >> 32)
        var i = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            used.withUnsafeBufferPointer { used in
                keyBytes.withUnsafeBufferPointer { keyBytes in
                    while used[i] {
                        let slot = slots[i]
                        if slot.hash == short && Int(slot.keyLength) == key.count
                            && memcmpEqual(keyBytes.baseAddress! + slot.keyOffset, base, key.count) {
                            return valueStore.withUnsafeBufferPointer { values in
                                body(UnsafeBufferPointer(rebasing: values[slot.valueOffset..<slot.valueOffset + slot.valueCount]))
                            }
                        }
                        i = (i + 1) & mask
                    }
                    return nil
                }
            }
        }
    }

    /// The single value stored for `key` (the first when several), or nil.
    @inline(__always)
    func first(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        withValues(key) { $0.first } ?? nil
    }

    /// Inserts unless present (the table never grows past its capacity: callers bound `count`).
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, values: UnsafeBufferPointer<Int32>) {
        guard let base = key.baseAddress, key.count > 0 else { return }
        if withValues(key, { _ in true }) != nil { return }
        if (count + 1) * 2 > slots.count { grow() }
        let hash = hashBytes(base, key.count)
        var i = Int(truncatingIfNeeded: hash) & mask
        while used[i] { i = (i + 1) & mask }
        used[i] = true
        slots[i] = Slot(hash: UInt32(truncatingIfNeeded: hash >> 32), keyLength: UInt32(key.count),
                        keyOffset: keyBytes.count, valueOffset: valueStore.count, valueCount: values.count)
        keyBytes.append(contentsOf: key)
        valueStore.append(contentsOf: values)
        count += 1
    }

    mutating func insert(_ key: [UInt8], value: Int32) {
        key.withUnsafeBufferPointer { key in
            withUnsafePointer(to: value) { insert(key, values: UnsafeBufferPointer(start: $0, count: 1)) }
        }
    }

    /// Empties the table, keeping its capacity.
    mutating func removeAll() {
        for i in used.indices { used[i] = false }
        keyBytes.removeAll(keepingCapacity: true)
        valueStore.removeAll(keepingCapacity: true)
        count = 0
    }

    private mutating func grow() {
        let old = slots
        let oldUsed = used
        let size = slots.count * 2
        slots = [Slot](repeating: Slot(hash: 0, keyLength: 0, keyOffset: 0, valueOffset: 0, valueCount: 0), count: size)
        used = [Bool](repeating: false, count: size)
        mask = size - 1
        for (slot, isUsed) in zip(old, oldUsed) where isUsed {
            let hash = keyBytes.withUnsafeBufferPointer { hashBytes($0.baseAddress! + slot.keyOffset, Int(slot.keyLength)) }
            var i = Int(truncatingIfNeeded: hash) & mask
            while used[i] { i = (i + 1) & mask }
            used[i] = true
            slots[i] = slot
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if UnsafeRawPointer(a).loadUnaligned(fromByteOffset: i, as: UInt64.self)
            != UnsafeRawPointer(b).loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
