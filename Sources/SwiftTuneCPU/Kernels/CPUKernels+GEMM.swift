/// Sizes of one row-major product `C = alpha · op(A) · op(B) + beta · C`, all operands contiguous:
/// A `[m, k]` (`[k, m]` when `transposeA`), B `[k, n]` (`[n, k]` when `transposeB`), C `[m, n]`.
struct GEMMShape: Sendable, Equatable {
    var m: Int
    var n: Int
    var k: Int
    var transposeA = false
    var transposeB = false

    /// Row stride of A and B as stored.
    var lda: Int { transposeA ? m : k }
    var ldb: Int { transposeB ? k : n }
}

extension CPUKernels {
    /// Depth of a packed panel of op(B) (rows of k).
    static let gemmBlockK = 256
    /// Width of a packed panel of op(B) (columns of n); a panel is 256 KiB of f32, sized for L2.
    static let gemmBlockN = 256

    /// The portable GEMM: the block `rows × columns` of `C = alpha · op(A) · op(B) + beta · C`.
    ///
    /// `beta == 0` overwrites C without reading it (BLAS semantics, so C may hold garbage). Blocked for cache:
    /// for each `gemmBlockK × gemmBlockN` panel of op(B), packed contiguous (which also undoes `transposeB`),
    /// four rows of C at a time take `C[i, :] += alpha · op(A)[i, kk] · panel[kk, :]`, an inner loop over
    /// contiguous columns with no reduction, so the optimizer vectorizes it. Blocks of C are independent:
    /// the backend splits rows (or, for few rows, columns) over threads.
    static func gemm<T: KernelScalar>(_ shape: GEMMShape, alpha: T, a: UnsafePointer<T>, b: UnsafePointer<T>,
                                      beta: T, c: UnsafeMutablePointer<T>, rows: Range<Int>, columns: Range<Int>? = nil) {
        let (n, k) = (shape.n, shape.k)
        let columns = columns ?? 0..<n
        guard !rows.isEmpty, !columns.isEmpty else { return }
        for i in rows {
            let row = c + i * n
            if beta == 0 {
                (row + columns.lowerBound).update(repeating: 0, count: columns.count)
            } else if beta != 1 {
                for j in columns { row[j] *= beta }
            }
        }
        guard k > 0, alpha != 0 else { return }

        let panel = UnsafeMutablePointer<T>.allocate(capacity: gemmBlockK * gemmBlockN)
        defer { panel.deallocate() }
        // op(A)[i, kk], scaled by alpha.
        let lda = shape.lda, transposeA = shape.transposeA
        @inline(__always) func scaledA(_ i: Int, _ kk: Int) -> T {
            alpha * (transposeA ? a[kk * lda + i] : a[i * lda + kk])
        }

        for n0 in stride(from: columns.lowerBound, to: columns.upperBound, by: gemmBlockN) {
            let width = min(gemmBlockN, columns.upperBound - n0)
            for k0 in stride(from: 0, to: k, by: gemmBlockK) {
                let depth = min(gemmBlockK, k - k0)
                packPanel(shape, b: b, k0: k0, depth: depth, n0: n0, width: width, into: panel)
                var i = rows.lowerBound
                while i + 4 <= rows.upperBound {
                    let c0 = c + i * n + n0, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n
                    for kk in 0..<depth {
                        let a0 = scaledA(i, k0 + kk), a1 = scaledA(i + 1, k0 + kk)
                        let a2 = scaledA(i + 2, k0 + kk), a3 = scaledA(i + 3, k0 + kk)
                        let bRow = panel + kk * width
                        for j in 0..<width {
                            let bj = bRow[j]
                            c0[j] += a0 * bj
                            c1[j] += a1 * bj
                            c2[j] += a2 * bj
                            c3[j] += a3 * bj
                        }
                    }
                    i += 4
                }
                while i < rows.upperBound {
                    let c0 = c + i * n + n0
                    for kk in 0..<depth {
                        axpy(scaledA(i, k0 + kk), panel + kk * width, into: c0, count: width)
                    }
                    i += 1
                }
            }
        }
    }

    /// Copies `op(B)[k0..<k0+depth, n0..<n0+width]` into `panel` `[depth, width]`, row-major.
    private static func packPanel<T: KernelScalar>(_ shape: GEMMShape, b: UnsafePointer<T>, k0: Int, depth: Int,
                                                   n0: Int, width: Int, into panel: UnsafeMutablePointer<T>) {
        let ldb = shape.ldb
        if shape.transposeB {
            // B is stored [n, k]: a transpose, done in 8 × 8 tiles. Walking whole rows or columns instead would
            // touch hundreds of lines a power-of-two stride apart, which share a few cache sets and evict each other.
            let tile = 8
            for j0 in stride(from: 0, to: width, by: tile) {
                let jEnd = min(j0 + tile, width)
                for kk0 in stride(from: 0, to: depth, by: tile) {
                    let kkEnd = min(kk0 + tile, depth)
                    for j in j0..<jEnd {
                        let source = b + (n0 + j) * ldb + k0
                        for kk in kk0..<kkEnd { panel[kk * width + j] = source[kk] }
                    }
                }
            }
        } else {
            for kk in 0..<depth {
                (panel + kk * width).update(from: b + (k0 + kk) * ldb + n0, count: width)
            }
        }
    }
}
