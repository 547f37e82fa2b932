import Foundation
import SwiftTuneTensor

/// Host memory for CPU tensors: 64-byte aligned, freed with the last tensor that views it.
public final class CPUStorage: DeviceStorage, @unchecked Sendable {
    public let byteCount: Int
    public let pointer: UnsafeMutableRawPointer

    init(byteCount: Int, zeroed: Bool) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        if zeroed { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
    }

    deinit { pointer.deallocate() }
}

/// The CPU backend: the readable reference for every op and the no-GPU fallback.
///
/// Computes in f32 whatever it stores: bf16 tensors are widened into f32 scratch for each op and its outputs rounded
/// back (`F32Staging`), so every kernel is the f32 kernel; f16 is a storage format for `cast` only. Spreads rows over all cores, and runs
/// matrix products through an OpenBLAS found at run time (`BLAS`) or a portable Swift GEMM when none is installed.
public final class CPUBackend: Backend, @unchecked Sendable {
    public let name = "cpu"

    /// f32 everywhere, or bf16 storage computed in f32 (`F32Staging`), with f32 masters.
    public func supports(_ precision: Precision) -> Bool {
        precision.master == .f32 && OpCheck.storageDTypes.contains(precision.compute)
    }
    /// The BLAS used for matmul, or nil for the portable Swift GEMM.
    public let blas: BLAS?
    /// Number of threads kernels split their work over.
    public let threadCount: Int

    /// - Parameters:
    ///   - useBLAS: look for OpenBLAS at run time (`BLAS.load()`); false forces the portable GEMM.
    ///   - threadCount: worker threads for kernels (default: active processors).
    public init(useBLAS: Bool = true, threadCount: Int = ProcessInfo.processInfo.activeProcessorCount) {
        blas = useBLAS ? BLAS.load() : nil
        self.threadCount = max(1, threadCount)
    }

    // MARK: Memory

    public func allocate(shape: [Int], dtype: DType, zeroed: Bool) throws -> Tensor {
        // Checked before the size is used: a negative or overflowing size must throw, not trap.
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(shape, reason: "dimensions must be non-negative")
        }
        var bytes = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw TensorError.invalidShape(shape, reason: "the byte size overflows Int") }
            bytes = product
        }
        return try Tensor(storage: CPUStorage(byteCount: bytes, zeroed: zeroed), backend: self, shape: shape, dtype: dtype)
    }

    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) throws {
        guard bytes.count == tensor.byteCount else {
            throw TensorError.shapeMismatch(op: "upload", expected: "\(bytes.count) bytes", got: tensor.shape)
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            try raw(tensor).copyMemory(from: base, byteCount: bytes.count)
        }
    }

    public func download(_ tensor: Tensor, to bytes: UnsafeMutableRawBufferPointer) throws {
        guard bytes.count == tensor.byteCount else {
            throw TensorError.shapeMismatch(op: "download", expected: "\(bytes.count) bytes", got: tensor.shape)
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            base.copyMemory(from: try raw(tensor), byteCount: bytes.count)
        }
    }

    public func copy(_ source: Tensor, to destination: Tensor) throws {
        guard source.dtype == destination.dtype else {
            throw TensorError.dtypeMismatch(op: "copy", expected: "\(destination.dtype)", got: source.dtype)
        }
        guard source.count == destination.count else {
            throw TensorError.shapeMismatch(op: "copy", expected: "\(destination.shape)", got: source.shape)
        }
        try raw(destination).copyMemory(from: try raw(source), byteCount: source.byteCount)
    }

    public func fill(_ tensor: Tensor, with value: Float) throws {
        let n = tensor.count
        let p = try raw(tensor)
        switch tensor.dtype {
        case .f32: p.bindMemory(to: Float.self, capacity: n).update(repeating: value, count: n)
        case .f64: p.bindMemory(to: Double.self, capacity: n).update(repeating: Double(value), count: n)
        case .bf16: p.bindMemory(to: UInt16.self, capacity: n).update(repeating: FloatBits.bf16(from: value), count: n)
        case .f16: p.bindMemory(to: UInt16.self, capacity: n).update(repeating: FloatBits.f16(from: value), count: n)
        case .i32, .i64, .u8:
            throw TensorError.dtypeMismatch(op: "fill", expected: "a float dtype", got: tensor.dtype)
        }
    }

    public func cast(_ source: Tensor, to destination: Tensor) throws {
        guard source.count == destination.count else {
            throw TensorError.shapeMismatch(op: "cast", expected: "\(destination.shape)", got: source.shape)
        }
        guard source.dtype.isFloatingPoint else {
            throw TensorError.dtypeMismatch(op: "cast", expected: "a float source", got: source.dtype)
        }
        guard destination.dtype.isFloatingPoint else {
            throw TensorError.dtypeMismatch(op: "cast", expected: "a float destination", got: destination.dtype)
        }
        let n = source.count
        let input = SendableRawPointer(try raw(source)), output = SendableRawPointer(try raw(destination))
        let (sourceType, destinationType) = (source.dtype, destination.dtype)
        parallelFor(n, grain: 1 << 14) { range in
            let src = input.pointer, dst = output.pointer
            for i in range {
                let value: Float = switch sourceType {
                case .f32: src.load(fromByteOffset: i * 4, as: Float.self)
                case .f64: Float(src.load(fromByteOffset: i * 8, as: Double.self))
                case .bf16: FloatBits.float(fromBF16: src.load(fromByteOffset: i * 2, as: UInt16.self))
                default: FloatBits.float(fromF16: src.load(fromByteOffset: i * 2, as: UInt16.self))
                }
                switch destinationType {
                case .f32: dst.storeBytes(of: value, toByteOffset: i * 4, as: Float.self)
                case .f64:
                    // f64 → f64 keeps full precision; other sources widen exactly.
                    let wide = sourceType == .f64 ? src.load(fromByteOffset: i * 8, as: Double.self) : Double(value)
                    dst.storeBytes(of: wide, toByteOffset: i * 8, as: Double.self)
                case .bf16: dst.storeBytes(of: FloatBits.bf16(from: value), toByteOffset: i * 2, as: UInt16.self)
                default: dst.storeBytes(of: FloatBits.f16(from: value), toByteOffset: i * 2, as: UInt16.self)
                }
            }
        }
    }

    public func synchronize() throws {}

    // MARK: Access for kernels

    /// The host address of a tensor's first element; the tensor must live on this backend.
    func raw(_ tensor: Tensor) throws -> UnsafeMutableRawPointer {
        guard let storage = tensor.storage as? CPUStorage else {
            throw TensorError.unsupported(op: "reading a \(tensor.backend.name) tensor", backend: name,
                                          hint: "copy it to the CPU first")
        }
        return storage.pointer + tensor.byteOffset
    }

    /// The f32 elements of `tensor`; throws if it is not f32.
    func f32(_ tensor: Tensor, _ op: String) throws -> UnsafeMutablePointer<Float> {
        guard tensor.dtype == .f32 else { throw TensorError.dtypeMismatch(op: op, expected: "f32", got: tensor.dtype) }
        return try raw(tensor).bindMemory(to: Float.self, capacity: tensor.count)
    }

    /// The i32 elements of `tensor`; throws if it is not i32.
    func i32(_ tensor: Tensor, _ op: String) throws -> UnsafeMutablePointer<Int32> {
        guard tensor.dtype == .i32 else { throw TensorError.dtypeMismatch(op: op, expected: "i32", got: tensor.dtype) }
        return try raw(tensor).bindMemory(to: Int32.self, capacity: tensor.count)
    }

    /// Runs `body` over `0..<count` split into contiguous chunks of at least `grain` items, one per thread.
    func parallelFor(_ count: Int, grain: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = min(threadCount, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lower = count * chunk / chunks, upper = count * (chunk + 1) / chunks
            body(lower..<upper)
        }
    }
}
