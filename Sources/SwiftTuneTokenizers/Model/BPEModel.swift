/// The BPE model of an HF `tokenizer.json` (`model.type == "BPE"`), for byte-level vocabularies (GPT-2 style:
/// Llama 3, Qwen2, SmolLM2) and for SentencePiece-style ones with `<0xNN>` byte fallback (Llama 2, Mistral).
///
/// A pre-token (UTF-8 bytes) becomes initial symbols — one per byte for byte-level models, one per character
/// otherwise (its `<0xNN>` bytes or `unk` when the character is not in the vocabulary) — then the adjacent pair
/// with the lowest merge rank is merged, leftmost first, until no pair has a rank (Sennrich et al., 2016,
/// https://arxiv.org/abs/1508.07909; HF tokenizers' `BPE::merge_word`).
struct BPEModel: Sendable {
    /// Token string → id, for `tokenID` (model vocabulary only).
    let vocab: [String: Int32]
    /// Token bytes → id: byte-level tokens as the raw bytes they stand for, others as UTF-8.
    let tokenBytes: ByteSliceMap
    /// `left << 32 | right` → `rank << 32 | merged`.
    let merges: PairTable
    let byteLevel: Bool
    /// Byte-level: the id of each byte's alphabet character (-1: not in the vocabulary).
    let byteIDs: [Int32]
    /// SentencePiece-style: the id of each ASCII character (-1: not in the vocabulary).
    let asciiIDs: [Int32]
    /// The `<0xNN>` ids when `byte_fallback` is on and all 256 exist.
    let byteFallbackIDs: [Int32]?
    let unkID: Int32?
    let fuseUnk: Bool
    /// Emit a pre-token that is itself a vocabulary entry without merging (Llama 3).
    let ignoreMerges: Bool
    let cache = WordCache()

    /// Reusable buffers for one `encode` call.
    struct Scratch {
        var symbols: [Int32] = []
        var ranks: [UInt32] = []
        var merged: [Int32] = []
        var next: [Int32] = []
        var previous: [Int32] = []
        var heap: [UInt64] = []
    }

    /// Words at most this many symbols long use the quadratic scan; longer ones a heap.
    private static let heapThreshold = 48
    /// Words of at least this many bytes go through the cache (shorter ones are cheaper to merge again).
    private static let cacheMinBytes = 4
    private static let cacheMaxBytes = 256

    /// Appends the ids of one pre-token to `out`.
    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32], scratch: inout Scratch) {
        let n = word.count
        if n == 0 { return }
        if ignoreMerges, let id = tokenBytes.first(word) {
            out.append(id)
            return
        }
        if byteLevel && n == 1 {
            let id = byteIDs[Int(word[0])]
            if id >= 0 { out.append(id) } else if let unkID { out.append(unkID) }
            return
        }
        let cacheable = n >= Self.cacheMinBytes && n <= Self.cacheMaxBytes
        if cacheable && cache.append(word, to: &out) { return }
        initialSymbols(word, into: &scratch.symbols)
        if scratch.symbols.count > Self.heapThreshold {
            mergeWithHeap(&scratch)
        } else {
            mergeByScan(&scratch)
        }
        let start = out.count
        out.append(contentsOf: scratch.symbols)
        if cacheable { cache.insert(word, ids: out[start...]) }
    }

    private func initialSymbols(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        if byteLevel {
            for byte in word {
                let id = byteIDs[Int(byte)]
                if id >= 0 {
                    symbols.append(id)
                } else if let unkID, !(fuseUnk && symbols.last == unkID) {
                    symbols.append(unkID)
                }
            }
            return
        }
        var i = 0
        var pendingUnk = false
        while i < word.count {
            let lead = word[i]
            let length = UTF8Scalar.length(lead: lead)
            var id: Int32 = -1
            if lead < 0x80 {
                id = asciiIDs[Int(lead)]
            } else if let found = tokenBytes.first(UnsafeBufferPointer(rebasing: word[i..<i + length])) {
                id = found
            }
            if id >= 0 {
                if pendingUnk, let unkID { symbols.append(unkID) }
                pendingUnk = false
                symbols.append(id)
            } else if let byteFallbackIDs {
                for k in i..<i + length { symbols.append(byteFallbackIDs[Int(word[k])]) }
            } else if let unkID {
                if pendingUnk && !fuseUnk { symbols.append(unkID) }
                pendingUnk = true
            }
            i += length
        }
        if pendingUnk, let unkID { symbols.append(unkID) }
    }

    @inline(__always)
    private func pairRank(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32) {
        guard let value = merges.lookup(UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))) else {
            return (UInt32.max, -1)
        }
        return (UInt32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value & 0xFFFF_FFFF))
    }

    /// Short words: keep each adjacent pair's rank, merge the first lowest, update its two neighbours.
    private func mergeByScan(_ scratch: inout Scratch) {
        var n = scratch.symbols.count
        if n < 2 { return }
        scratch.ranks.removeAll(keepingCapacity: true)
        scratch.merged.removeAll(keepingCapacity: true)
        for i in 0..<n - 1 {
            let (rank, merged) = pairRank(scratch.symbols[i], scratch.symbols[i + 1])
            scratch.ranks.append(rank)
            scratch.merged.append(merged)
        }
        scratch.symbols.withUnsafeMutableBufferPointer { symbols in
            scratch.ranks.withUnsafeMutableBufferPointer { ranks in
                scratch.merged.withUnsafeMutableBufferPointer { merged in
                    while n > 1 {
                        var best = 0
                        var bestRank = ranks[0]
                        for i in 1..<n - 1 where ranks[i] < bestRank {
                            best = i
                            bestRank = ranks[i]
                        }
                        if bestRank == UInt32.max { break }
                        symbols[best] = merged[best]
                        // Remove symbol best + 1 and pair best (its pair with best + 1 is gone).
                        var k = best + 1
                        while k < n - 1 {
                            symbols[k] = symbols[k + 1]
                            k += 1
                        }
                        k = best
                        while k < n - 2 {
                            ranks[k] = ranks[k + 1]
                            merged[k] = merged[k + 1]
                            k += 1
                        }
                        n -= 1
                        if best > 0 {
                            (ranks[best - 1], merged[best - 1]) = pairRank(symbols[best - 1], symbols[best])
                        }
                        if best < n - 1 {
                            (ranks[best], merged[best]) = pairRank(symbols[best], symbols[best + 1])
                        }
                    }
                }
            }
        }
        scratch.symbols.removeLast(scratch.symbols.count - n)
    }

    /// Long words: a min-heap of (rank, position) over a linked list of symbols; stale entries are skipped.
    private func mergeWithHeap(_ scratch: inout Scratch) {
        let n = scratch.symbols.count
        scratch.next = (0..<n).map { Int32($0 + 1) }
        scratch.previous = (0..<n).map { Int32($0 - 1) }
        var heap = MinHeap(storage: scratch.heap)
        // Heap keys: rank (32 bits) | position (32 bits). A popped entry is stale when the pair now at its
        // position has another rank (a rank names one merge, so an equal rank means the same pair).
        for i in 0..<n - 1 {
            let (rank, _) = pairRank(scratch.symbols[i], scratch.symbols[i + 1])
            if rank != UInt32.max { heap.push(UInt64(rank) << 32 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let position = Int(top & 0xFFFF_FFFF)
            let following = Int(scratch.next[position])
            guard scratch.symbols[position] >= 0, following < n else { continue }
            let (rank, merged) = pairRank(scratch.symbols[position], scratch.symbols[following])
            guard rank == UInt32(top >> 32) else { continue }
            scratch.symbols[position] = merged
            scratch.symbols[following] = -1
            let after = Int(scratch.next[following])
            scratch.next[position] = Int32(after)
            if after < n { scratch.previous[after] = Int32(position) }
            let before = Int(scratch.previous[position])
            if before >= 0 {
                let (r, _) = pairRank(scratch.symbols[before], merged)
                if r != UInt32.max { heap.push(UInt64(r) << 32 | UInt64(before)) }
            }
            if after < n {
                let (r, _) = pairRank(merged, scratch.symbols[after])
                if r != UInt32.max { heap.push(UInt64(r) << 32 | UInt64(position)) }
            }
        }
        scratch.heap = heap.storage
        var write = 0
        for read in 0..<n where scratch.symbols[read] >= 0 {
            scratch.symbols[write] = scratch.symbols[read]
            write += 1
        }
        scratch.symbols.removeLast(n - write)
    }
}

/// A binary min-heap of `UInt64` keys.
struct MinHeap {
    var storage: [UInt64]

    init(storage: [UInt64]) {
        self.storage = storage
        self.storage.removeAll(keepingCapacity: true)
    }

    mutating func push(_ key: UInt64) {
        storage.append(key)
        var i = storage.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if storage[parent] <= key { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = key
    }

    mutating func pop() -> UInt64? {
        guard let top = storage.first else { return nil }
        let last = storage.removeLast()
        if storage.isEmpty { return top }
        var i = 0
        let n = storage.count
        while true {
            let left = 2 * i + 1
            if left >= n { break }
            var child = left
            if left + 1 < n && storage[left + 1] < storage[left] { child = left + 1 }
            if storage[child] >= last { break }
            storage[i] = storage[child]
            i = child
        }
        storage[i] = last
        return top
    }
}
