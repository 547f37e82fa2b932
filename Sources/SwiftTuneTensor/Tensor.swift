/// Device memory owned by one backend: host memory for the CPU backend, a device pointer for CUDA.
/// The memory is released when the last tensor that views it goes away.
public protocol DeviceStorage: AnyObject, Sendable {
    /// Size of the allocation in bytes.
    var byteCount: Int { get }
}

/// A contiguous, row-major tensor on one backend.
///
/// A tensor is a cheap value: shape, dtype and a byte offset into shared storage. Views are limited to what
/// the ops need: `reshaped(_:)` and leading-dimension slices (`rows(_:)`). Reading values on the host goes
/// through the backend (`Backend.floats(_:)`) and is meant for the edges only: loading, sampling, logging.
public struct Tensor: Sendable, CustomStringConvertible {
    public let storage: any DeviceStorage
    public let backend: any Backend
    public let shape: [Int]
    public let dtype: DType
    /// Offset of the first element inside `storage`, in bytes.
    public let byteOffset: Int

    /// Wraps storage; the backend that allocated it calls this. Throws if the view does not fit.
    public init(storage: any DeviceStorage, backend: any Backend, shape: [Int], dtype: DType, byteOffset: Int = 0) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(shape, reason: "dimensions must be non-negative")
        }
        let bytes = shape.reduce(1, *) * dtype.byteSize
        guard byteOffset >= 0, byteOffset + bytes <= storage.byteCount else {
            throw TensorError.invalidShape(
                shape, reason: "\(bytes) bytes at offset \(byteOffset) exceed the storage of \(storage.byteCount) bytes")
        }
        self.storage = storage
        self.backend = backend
        self.shape = shape
        self.dtype = dtype
        self.byteOffset = byteOffset
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of bytes the elements occupy.
    public var byteCount: Int { count * dtype.byteSize }
    public var rank: Int { shape.count }

    /// Size of dimension `axis`; negative axes count from the end.
    public func size(_ axis: Int) -> Int { shape[axis < 0 ? shape.count + axis : axis] }

    /// The same elements with another shape (the element count must match). `-1` infers one dimension.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch(op: "reshape", expected: "\(newShape)", got: shape)
            }
            resolved[inferred] = count / known
        }
        guard resolved.reduce(1, *) == count, resolved.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.shapeMismatch(op: "reshape", expected: "\(newShape) (\(count) elements)", got: shape)
        }
        return try Tensor(storage: storage, backend: backend, shape: resolved, dtype: dtype, byteOffset: byteOffset)
    }

    /// A view of rows `range` along the leading dimension.
    public func rows(_ range: Range<Int>) throws -> Tensor {
        guard let first = shape.first, range.lowerBound >= 0, range.upperBound <= first else {
            throw TensorError.shapeMismatch(op: "rows(\(range))", expected: "a leading dimension ≥ \(range.upperBound)", got: shape)
        }
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.byteSize
        return try Tensor(storage: storage, backend: backend, shape: [range.count] + shape.dropFirst(),
                          dtype: dtype, byteOffset: byteOffset + range.lowerBound * rowBytes)
    }

    public var description: String { "Tensor(\(shape), \(dtype), \(backend.name))" }
}

/// Errors from tensors and backends: what failed, where, expected vs got.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case invalidShape([Int], reason: String)
    case shapeMismatch(op: String, expected: String, got: [Int])
    case dtypeMismatch(op: String, expected: String, got: DType)
    case unsupported(op: String, backend: String, hint: String)
    case indexOutOfRange(op: String, index: Int, bound: Int)
    case backendFailure(backend: String, call: String, message: String)
    /// A scalar argument outside its domain (a probability above 1, a step of 0).
    case invalidArgument(op: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidShape(shape, reason):
            "invalid tensor shape \(shape): \(reason)"
        case let .shapeMismatch(op, expected, got):
            "\(op): expected shape \(expected), got \(got)"
        case let .dtypeMismatch(op, expected, got):
            "\(op): expected dtype \(expected), got \(got)"
        case let .unsupported(op, backend, hint):
            "\(op) is not supported by the \(backend) backend" + (hint.isEmpty ? "" : " (hint: \(hint))")
        case let .indexOutOfRange(op, index, bound):
            "\(op): index \(index) out of range 0..<\(bound)"
        case let .backendFailure(backend, call, message):
            "\(backend) backend: \(call) failed: \(message)"
        case let .invalidArgument(op, reason):
            "\(op): \(reason)"
        }
    }
}
