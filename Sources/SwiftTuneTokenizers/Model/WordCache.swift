import Foundation

/// A bounded, thread-safe cache of pre-token bytes → BPE ids, shared by every `encode` call of a tokenizer
/// (HF tokenizers keeps a similar word cache). Cleared when full, which keeps it simple and bounded.
final class WordCache: @unchecked Sendable {
    private var map = ByteSliceMap(capacity: 1 << 14)
    private let lock = NSLock()
    private let maxEntries: Int
    private let maxBytes: Int

    init(maxEntries: Int = 1 << 16, maxBytes: Int = 16 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// Appends the cached ids of `word` to `out`; false when absent.
    @inline(__always)
    func append(_ word: UnsafeBufferPointer<UInt8>, to out: inout [Int32]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return map.withValues(word) { out.append(contentsOf: $0) } != nil
    }

    func insert(_ word: UnsafeBufferPointer<UInt8>, ids: ArraySlice<Int32>) {
        lock.lock()
        defer { lock.unlock() }
        if map.count >= maxEntries || map.storedSize >= maxBytes { map.removeAll() }
        ids.withUnsafeBufferPointer { map.insert(word, values: $0) }
    }
}
