/// numpy's `SeedSequence` (entropy as a non-negative integer, no spawn key), used to seed `default_rng(seed)`.
/// The mixing follows Melissa O'Neill's seed_seq_fe: https://www.pcg-random.org/posts/developing-a-seed_seq-alternative.html
public struct NumpySeedSequence: Sendable {
    private var pool = [UInt32](repeating: 0, count: 4)

    public init(entropy: UInt64) {
        let initA: UInt32 = 0x43B0_D7E5, multA: UInt32 = 0x931E_8875
        let mixL: UInt32 = 0xCA01_F9DD, mixR: UInt32 = 0x4973_F715
        var words: [UInt32] = []
        var e = entropy
        repeat { words.append(UInt32(truncatingIfNeeded: e)); e >>= 32 } while e > 0
        var hashConst = initA
        func hashmix(_ v: UInt32) -> UInt32 {
            var value = v ^ hashConst
            hashConst = hashConst &* multA
            value = value &* hashConst
            value ^= value >> 16
            return value
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            var r = (mixL &* x) &- (mixR &* y)
            r ^= r >> 16
            return r
        }
        for i in 0..<4 { pool[i] = hashmix(i < words.count ? words[i] : 0) }
        for src in 0..<4 { for dst in 0..<4 where src != dst { pool[dst] = mix(pool[dst], hashmix(pool[src])) } }
        if words.count > 4 {
            for src in 4..<words.count { for dst in 0..<4 { pool[dst] = mix(pool[dst], hashmix(words[src])) } }
        }
    }

    /// `generate_state(n, np.uint64)`.
    public func generateState64(_ n: Int) -> [UInt64] {
        let initB: UInt32 = 0x8B51_F9DD, multB: UInt32 = 0x58F3_8DED
        var hashConst = initB
        var words: [UInt32] = []
        for i in 0..<(2 * n) {
            var v = pool[i % 4] ^ hashConst
            hashConst = hashConst &* multB
            v = v &* hashConst
            v ^= v >> 16
            words.append(v)
        }
        return (0..<n).map { UInt64(words[2 * $0]) | (UInt64(words[2 * $0 + 1]) << 32) }
    }
}

/// numpy's PCG64 bit generator (PCG XSL-RR 128/64, https://www.pcg-random.org) and the part of
/// `np.random.Generator` that HF `datasets` uses for `shuffle(seed=)` and `train_test_split(seed=)`.
public struct NumpyGenerator: Sendable {
    private var stateHigh: UInt64 = 0, stateLow: UInt64 = 0
    private var incHigh: UInt64 = 0, incLow: UInt64 = 0
    private var bufferedUInt32: UInt32?

    private static let multHigh: UInt64 = 0x2360_ED05_1FC6_5DA4
    private static let multLow: UInt64 = 0x4385_DF64_9FCC_F645

    /// `np.random.default_rng(seed)`.
    public init(seed: UInt64) {
        let s = NumpySeedSequence(entropy: seed).generateState64(4)
        // pcg64_set_seed: initstate = (s[0] << 64) | s[1], initseq = (s[2] << 64) | s[3].
        incHigh = (s[2] << 1) | (s[3] >> 63)
        incLow = (s[3] << 1) | 1
        step()
        let (low, carry) = stateLow.addingReportingOverflow(s[1])
        stateLow = low
        stateHigh = stateHigh &+ s[0] &+ (carry ? 1 : 0)
        step()
    }

    private mutating func step() {
        // state = state * mult + inc (mod 2^128)
        let (hi, lo) = stateLow.multipliedFullWidth(by: Self.multLow)
        var newHigh = hi &+ stateHigh &* Self.multLow &+ stateLow &* Self.multHigh
        let (newLow, carry) = lo.addingReportingOverflow(incLow)
        newHigh = newHigh &+ incHigh &+ (carry ? 1 : 0)
        stateHigh = newHigh
        stateLow = newLow
    }

    /// The next 64 bits.
    public mutating func nextUInt64() -> UInt64 {
        step()
        let xored = stateHigh ^ stateLow
        let rot = stateHigh >> 58
        return (xored >> rot) | (xored << ((64 &- rot) & 63))
    }

    /// The next 32 bits (numpy buffers the high half of a 64-bit draw).
    public mutating func nextUInt32() -> UInt32 {
        if let b = bufferedUInt32 { bufferedUInt32 = nil; return b }
        let next = nextUInt64()
        bufferedUInt32 = UInt32(truncatingIfNeeded: next >> 32)
        return UInt32(truncatingIfNeeded: next)
    }

    mutating func interval(_ max: UInt64) -> UInt64 {
        if max == 0 { return 0 }
        var mask = max
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4
        mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32
        if max <= 0xFFFF_FFFF {
            while true { let v = UInt64(nextUInt32()) & mask; if v <= max { return v } }
        }
        while true { let v = nextUInt64() & mask; if v <= max { return v } }
    }

    /// `Generator.permutation(n)`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        guard n > 1 else { return a }
        for i in stride(from: n - 1, to: 0, by: -1) {
            a.swapAt(i, Int(interval(UInt64(i))))
        }
        return a
    }
}
