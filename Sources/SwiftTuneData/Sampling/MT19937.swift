/// The Mersenne Twister MT19937 (Matsumoto & Nishimura 1998) as numpy's legacy `RandomState` seeds and draws it.
/// http://www.math.sci.hiroshima-u.ac.jp/m-mat/MT/emt.html
public struct MT19937: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var position = 624

    /// numpy `RandomState(seed)` for an integer seed in 0 ..< 2^32 (`init_genrand`).
    public init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        position = 624
    }

    private mutating func generate() {
        let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7FFF_FFFF, matrixA: UInt32 = 0x9908_B0DF
        for i in 0..<624 {
            let y = (state[i] & upper) | (state[(i + 1) % 624] & lower)
            var next = state[(i + 397) % 624] ^ (y >> 1)
            if y & 1 != 0 { next ^= matrixA }
            state[i] = next
        }
        position = 0
    }

    /// The next 32 random bits (`genrand_int32`, tempered).
    public mutating func nextUInt32() -> UInt32 {
        if position >= 624 { generate() }
        var y = state[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// 64 bits from two draws, high word first (numpy `mt19937_next64`).
    public mutating func nextUInt64() -> UInt64 {
        let high = UInt64(nextUInt32())
        return (high << 32) | UInt64(nextUInt32())
    }
}

/// The subset of numpy's legacy `np.random.RandomState` that ms-swift's dataset sampling uses, bit-exact.
public struct NumpyRandomState: Sendable {
    public private(set) var mt: MT19937

    /// `np.random.RandomState(seed)`.
    public init(seed: UInt32) { mt = MT19937(seed: seed) }

    /// numpy `random_interval(max)`: a uniform integer in 0...max by masked rejection.
    public mutating func interval(_ max: UInt64) -> UInt64 {
        if max == 0 { return 0 }
        var mask = max
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4
        mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32
        if max <= 0xFFFF_FFFF {
            while true {
                let value = UInt64(mt.nextUInt32()) & mask
                if value <= max { return value }
            }
        }
        while true {
            let value = mt.nextUInt64() & mask
            if value <= max { return value }
        }
    }

    /// `RandomState.shuffle` of a 1-d array (Fisher–Yates from the end).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = Int(interval(UInt64(i)))
            array.swapAt(i, j)
        }
    }

    /// `RandomState.permutation(n)`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        shuffle(&a)
        return a
    }

    /// `RandomState.randint(low, high)` (int64, high exclusive), numpy's masked legacy algorithm.
    public mutating func randint(_ low: Int64, _ high: Int64) -> Int64 {
        let range = UInt64(high - 1 - low)
        if range == 0 { return low }
        var mask = range
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4
        mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32
        if range <= 0xFFFF_FFFF {
            if range == 0xFFFF_FFFF { return low + Int64(mt.nextUInt32()) }
            while true {
                let v = UInt64(mt.nextUInt32()) & mask
                if v <= range { return low + Int64(v) }
            }
        }
        while true {
            let v = mt.nextUInt64() & mask
            if v <= range { return low + Int64(v) }
        }
    }

    /// ms-swift `get_seed(random_state)`: `randint(0, 2**31 - 1)`.
    public mutating func nextSeed() -> Int64 { randint(0, Int64(Int32.max)) }
}
