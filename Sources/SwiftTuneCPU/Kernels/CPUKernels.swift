/// The math of every CPU op, written once over `T` (`Float` in the backend, `Double` in the gradient checks).
///
/// These are the reference implementations other backends are tested against, so they favour plain loops
/// over cleverness. Conventions shared by every kernel:
/// - Buffers are contiguous and row-major; the shape of each is in its doc comment, e.g. x `[N, D]`.
/// - A kernel runs single-threaded over an explicit range (`rows`, `columns`, `tokens`, work items) and
///   touches only the outputs that range owns, so `CPUBackend` can split the range over threads without
///   races and a test can run the whole range at once.
/// - Kernels trust their sizes and indices; `CPUBackend` validates shapes, dtypes and ids before calling.
/// - Reductions that feed a single number (norms, sums) are ordered by fixed blocks, never by thread,
///   so results do not depend on the thread count.
enum CPUKernels {}

// MARK: - Elementwise

extension CPUKernels {
    /// `out[i] = a[i] + scale · b[i]` for `i` in `range`; `out` may be `a` or `b`.
    static func add<T: KernelScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, scale: T,
                                     into out: UnsafeMutablePointer<T>, range: Range<Int>) {
        for i in range { out[i] = a[i] + scale * b[i] }
    }

    /// `out[i] = factor · x[i]` for `i` in `range`; `out` may be `x`.
    static func scale<T: KernelScalar>(_ x: UnsafePointer<T>, by factor: T,
                                       into out: UnsafeMutablePointer<T>, range: Range<Int>) {
        for i in range { out[i] = factor * x[i] }
    }

    /// `out[n, c] = x[n, c] + bias[c]` for x, out `[N, C]`, bias `[C]`, rows `n` in `rows`; `out` may be `x`.
    static func addBias<T: KernelScalar>(_ x: UnsafePointer<T>, bias: UnsafePointer<T>, columns: Int,
                                         into out: UnsafeMutablePointer<T>, rows: Range<Int>) {
        for n in rows {
            let input = x + n * columns, output = out + n * columns
            for c in 0..<columns { output[c] = input[c] + bias[c] }
        }
    }

    /// `out[c] (+)= Σ_n x[n, c]` for x `[rows, width]`, out `[width]`, columns `c` in `columns`.
    ///
    /// Sums into a zeroed strip first, so accumulating adds one rounded total per column.
    static func sumRows<T: KernelScalar>(_ x: UnsafePointer<T>, rows: Int, width: Int,
                                         into out: UnsafeMutablePointer<T>, accumulate: Bool, columns: Range<Int>) {
        let strip = UnsafeMutablePointer<T>.allocate(capacity: columns.count)
        defer { strip.deallocate() }
        strip.initialize(repeating: 0, count: columns.count)
        for n in 0..<rows {
            let row = x + n * width + columns.lowerBound
            for c in 0..<columns.count { strip[c] += row[c] }
        }
        let target = out + columns.lowerBound
        for c in 0..<columns.count { target[c] = accumulate ? target[c] + strip[c] : strip[c] }
    }

    /// Elements per block of `sumOfSquares`: summed in `T`, then the block sums in `Double`.
    static let sumOfSquaresBlock = 1 << 12

    /// `Σ x[i]²` over `range`, summed in `T` within blocks of `sumOfSquaresBlock` and in `Double` across them.
    static func sumOfSquares<T: KernelScalar>(_ x: UnsafePointer<T>, range: Range<Int>) -> Double {
        var total = 0.0
        for start in stride(from: range.lowerBound, to: range.upperBound, by: sumOfSquaresBlock) {
            var partial: T = 0
            for i in start..<min(start + sumOfSquaresBlock, range.upperBound) { partial += x[i] * x[i] }
            total += Double(partial)
        }
        return total
    }
}

// MARK: - SwiGLU

extension CPUKernels {
    /// `out[i] = silu(gate[i]) · up[i]` with `silu(g) = g · σ(g)`; `out` may be `gate` or `up`.
    static func swiglu<T: KernelScalar>(gate: UnsafePointer<T>, up: UnsafePointer<T>,
                                        into out: UnsafeMutablePointer<T>, range: Range<Int>) {
        for i in range {
            let g = gate[i]
            out[i] = g * sigmoid(g) * up[i]
        }
    }

    /// Gradients of `swiglu`: `gradGate = dy · up · silu'(gate)`, `gradUp = dy · silu(gate)`, overwritten.
    ///
    /// `silu'(g) = σ(g) · (1 + g · (1 − σ(g)))`. Each index is read before it is written, so the gradients
    /// may alias any of the inputs.
    static func swigluBackward<T: KernelScalar>(gate: UnsafePointer<T>, up: UnsafePointer<T>,
                                                gradOutput: UnsafePointer<T>, into gradGate: UnsafeMutablePointer<T>,
                                                gradUp: UnsafeMutablePointer<T>, range: Range<Int>) {
        for i in range {
            let g = gate[i], u = up[i], dy = gradOutput[i]
            let s = sigmoid(g)
            gradGate[i] = dy * u * s * (1 + g * (1 - s))
            gradUp[i] = dy * g * s
        }
    }

    /// The logistic function `1 / (1 + e^−x)`; saturates to 0 or 1 without NaNs.
    @inline(__always)
    static func sigmoid<T: KernelScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }
}

// MARK: - Embedding

extension CPUKernels {
    /// `out[n] = table[ids[n]]` for ids `[N]` (each in `0..<V`), table `[V, width]`, out `[N, width]`.
    static func embedding<T: KernelScalar>(ids: UnsafePointer<Int32>, table: UnsafePointer<T>, width: Int,
                                           into out: UnsafeMutablePointer<T>, tokens: Range<Int>) {
        for n in tokens {
            (out + n * width).update(from: table + Int(ids[n]) * width, count: width)
        }
    }

    /// `gradTable[ids[n], c] += gradOutput[n, c]` for every token `n` and columns `c` in `columns`.
    ///
    /// Splitting by columns (not tokens) keeps repeated ids race-free and the summation order fixed.
    static func embeddingBackward<T: KernelScalar>(ids: UnsafePointer<Int32>, gradOutput: UnsafePointer<T>,
                                                   tokens: Int, width: Int, into gradTable: UnsafeMutablePointer<T>,
                                                   columns: Range<Int>) {
        for n in 0..<tokens {
            let source = gradOutput + n * width, target = gradTable + Int(ids[n]) * width
            for c in columns { target[c] += source[c] }
        }
    }
}
