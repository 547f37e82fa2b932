/// The shape and dtype rules of every `Backend` op, written once and called by every backend before it touches
/// memory, so the CPU reference and the CUDA backend accept and refuse exactly the same arguments with the same
/// `TensorError`.
///
/// One static func per op (in the `OpCheck+<Family>.swift` files, named after the op) takes the op's tensors,
/// throws the first rule they break, and returns the sizes the op derives from them (rows and columns, heads,
/// the matrix product's m, n, k). Messages name the op and the argument (`rmsNorm weight: expected shape [13],
/// got [12]`). What needs device memory to check (ids in range, offsets rising) stays with the backends that can
/// read it (the CPU backend); what only one backend's kernels limit (32-bit sizes, a largest head dimension) stays
/// with that backend.
///
/// Dtypes: an op's activations (inputs, outputs and their gradients) share one *storage* dtype, f32 or bf16
/// (`storage`, `same`); the accumulators of parameter gradients (`matmul`'s c, `gradWeight`, `gradTable`, `sumRows`)
/// are f32 or that storage dtype (`accumulator`), so bf16 activations can add into f32 master gradients; statistics
/// (log-sum-exp, 1/rms, losses, log-probabilities, inverse frequencies, norms, AdamW's state) are f32 (`float`).
/// Every backend computes in f32 whatever it stores; a backend without an op's bf16 form refuses it by name.
public enum OpCheck {
    /// The dtypes activations may be stored in.
    public static let storageDTypes: [DType] = [.f32, .bf16]

    /// Throws unless `tensor` has `dtype`.
    public static func dtype(_ tensor: Tensor, _ dtype: DType, _ op: String, _ argument: String) throws {
        guard tensor.dtype == dtype else {
            throw TensorError.dtypeMismatch(op: "\(op) \(argument)", expected: "\(dtype)", got: tensor.dtype)
        }
    }

    /// Throws unless every tensor is f32 (statistics, optimizer state, f32-only operands).
    public static func float(_ op: String, _ tensors: (Tensor, String)...) throws {
        try float(op, tensors)
    }

    /// Throws unless every tensor is f32 (statistics, optimizer state, f32-only operands).
    public static func float(_ op: String, _ tensors: [(Tensor, String)]) throws {
        for (tensor, argument) in tensors { try dtype(tensor, .f32, op, argument) }
    }

    /// Throws unless every tensor is stored in one dtype of `storageDTypes` (the first tensor's); returns it.
    @discardableResult
    public static func storage(_ op: String, _ tensors: (Tensor, String)...) throws -> DType {
        try storage(op, tensors)
    }

    /// Throws unless every tensor is stored in one dtype of `storageDTypes` (the first tensor's); returns it.
    @discardableResult
    public static func storage(_ op: String, _ tensors: [(Tensor, String)]) throws -> DType {
        guard let (first, argument) = tensors.first else { return .f32 }
        guard storageDTypes.contains(first.dtype) else {
            throw TensorError.dtypeMismatch(op: "\(op) \(argument)", expected: "f32 or bf16", got: first.dtype)
        }
        for (tensor, name) in tensors.dropFirst() { try same(tensor, as: first, op, name) }
        return first.dtype
    }

    /// Throws unless `tensor` has `reference`'s dtype.
    public static func same(_ tensor: Tensor, as reference: Tensor, _ op: String, _ argument: String) throws {
        try dtype(tensor, reference.dtype, op, argument)
    }

    /// Throws unless `tensor` (a gradient accumulator) is f32 or `storage`.
    public static func accumulator(_ tensor: Tensor, storage: DType, _ op: String, _ argument: String) throws {
        guard tensor.dtype == .f32 || tensor.dtype == storage else {
            throw TensorError.dtypeMismatch(op: "\(op) \(argument)", expected: storage == .f32 ? "f32" : "f32 or \(storage)",
                                            got: tensor.dtype)
        }
    }

    /// Throws unless `tensor` has exactly `expected` as its shape.
    public static func shape(_ tensor: Tensor, _ expected: [Int], _ op: String, _ argument: String) throws {
        guard tensor.shape == expected else {
            throw TensorError.shapeMismatch(op: "\(op) \(argument)", expected: "\(expected)", got: tensor.shape)
        }
    }

    /// Throws unless `tensor` holds `count` elements (any shape).
    public static func count(_ tensor: Tensor, _ count: Int, _ op: String, _ argument: String) throws {
        guard tensor.count == count else {
            throw TensorError.shapeMismatch(op: "\(op) \(argument)", expected: "\(count) elements", got: tensor.shape)
        }
    }

    /// Throws unless `tensor` has rank `rank`; `layout` describes the expected shape, e.g. `[N, H, hd]`.
    public static func rank(_ tensor: Tensor, _ rank: Int, _ op: String, _ argument: String, layout: String) throws {
        guard tensor.rank == rank else {
            throw TensorError.shapeMismatch(op: "\(op) \(argument)", expected: "rank \(rank) \(layout)", got: tensor.shape)
        }
    }

    /// `tensor` viewed as `[rows, columns]`: `columns` its last dimension, `rows` the product of the others (rank ≥ 1).
    public static func rows(_ tensor: Tensor, _ op: String, _ argument: String) throws -> RowShape {
        guard let columns = tensor.shape.last else {
            throw TensorError.shapeMismatch(op: "\(op) \(argument)", expected: "rank ≥ 1 [N, C]", got: tensor.shape)
        }
        return RowShape(rows: tensor.shape.dropLast().reduce(1, *), columns: columns)
    }

    /// Throws unless `offsets` is i32 `[S + 1]` with S ≥ 1 (packed sequence starts, `queryStarts`); returns S.
    /// Whether the values start at 0, rise and end at the token count is for a backend that reads them.
    public static func offsets(_ offsets: Tensor, _ op: String, _ argument: String) throws -> Int {
        try dtype(offsets, .i32, op, argument)
        try rank(offsets, 1, op, argument, layout: "[S + 1]")
        guard offsets.count >= 2 else {
            throw TensorError.shapeMismatch(op: "\(op) \(argument)", expected: "[S + 1] with S ≥ 1", got: offsets.shape)
        }
        return offsets.count - 1
    }

    /// Throws unless a sliding window, when given, is at least 1.
    public static func window(_ slidingWindow: Int?, _ op: String) throws {
        if let slidingWindow, slidingWindow < 1 {
            throw TensorError.shapeMismatch(op: "\(op) slidingWindow", expected: "a window ≥ 1 (or nil)", got: [slidingWindow])
        }
    }

    /// A tensor viewed as `[rows, columns]`.
    public struct RowShape: Sendable, Equatable {
        public var rows: Int
        public var columns: Int
    }
}
