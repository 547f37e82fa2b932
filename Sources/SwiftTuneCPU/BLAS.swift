#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CBLAS library found at run time with `dlopen`, so the binary links no BLAS and runs without one.
///
/// Searched in order: `$SWIFT_TUNE_BLAS` (a path or soname), then OpenBLAS (Debian's
/// `libopenblas0-pthread` installs `libopenblas.so.0`), then the generic `libcblas.so.3` / `libblas.so.3`.
/// Set `SWIFT_TUNE_BLAS=none` to force the portable Swift GEMM.
public final class BLAS: @unchecked Sendable {
    // void cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void

    // void cblas_sgemv(order, trans, M, N, alpha, A, lda, X, incX, beta, Y, incY)
    typealias SGEMV = @convention(c) (
        Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
        UnsafeMutablePointer<Float>?, Int32
    ) -> Void

    /// The library that was loaded, e.g. `libopenblas.so.0`.
    public let libraryName: String
    private let handle: UnsafeMutableRawPointer
    private let sgemmFunction: SGEMM
    private let sgemvFunction: SGEMV?

    /// Names tried by `load()` when `SWIFT_TUNE_BLAS` is unset.
    public static let searchNames = [
        "libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.so",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "libcblas.so.3", "libblas.so.3", "libopenblas.dylib",
    ]

    private init(libraryName: String, handle: UnsafeMutableRawPointer, sgemm: SGEMM, sgemv: SGEMV?) {
        self.libraryName = libraryName
        self.handle = handle
        sgemmFunction = sgemm
        sgemvFunction = sgemv
    }

    /// The first CBLAS with `cblas_sgemm` found, or nil.
    ///
    /// Unless the user set it, `OPENBLAS_THREAD_TIMEOUT` is set to 4 first: OpenBLAS's idle workers then sleep
    /// after ~16 cycles instead of spinning, which otherwise steals the cores from swift-tune's own kernels
    /// between two GEMMs (measured: +27% decoder forward throughput on a 2-core machine).
    public static func load() -> BLAS? {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
        var names = searchNames
        if let override = getenv("SWIFT_TUNE_BLAS").map({ String(cString: $0) }) {
            if override == "none" { return nil }
            names = [override]
        }
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            if let symbol = dlsym(handle, "cblas_sgemm") {
                let sgemv = dlsym(handle, "cblas_sgemv").map { unsafeBitCast($0, to: SGEMV.self) }
                return BLAS(libraryName: name, handle: handle, sgemm: unsafeBitCast(symbol, to: SGEMM.self), sgemv: sgemv)
            }
            dlclose(handle)
        }
        return nil
    }

    /// Row-major `C = alpha · op(A) · op(B) + beta · C` for M×K by K×N (op = optional transpose).
    ///
    /// One row (M = 1, decoding a token) goes to `sgemv` when the library has it: `sgemm` packs all of B for a
    /// single row, `sgemv` streams it once.
    func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        if m == 1, let sgemvFunction {
            // c[n] = alpha · Σ_k a[k] · op(B)[k, n] + beta · c[n]; a's elements are lda apart when A is transposed.
            let incA = Int32(transposeA ? lda : 1)
            if beta == 0 { c.update(repeating: 0, count: n) }  // beta 0 overwrites: no NaN of the old c survives
            if transposeB {  // B is [N, K]: c = B · a
                sgemvFunction(rowMajor, noTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, incA, beta, c, 1)
            } else {  // B is [K, N]: c = Bᵀ · a
                sgemvFunction(rowMajor, trans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, incA, beta, c, 1)
            }
            return
        }
        sgemmFunction(rowMajor, transposeA ? trans : noTrans, transposeB ? trans : noTrans,
                      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
