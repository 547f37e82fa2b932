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
/// Float tensors are f32: the backends compute in f32 today, and a bf16 backend relaxes `float` here, in one place.
public enum OpCheck {
    /// Throws unless `tensor` has `dtype`.
    public static func dtype(_ tensor: Tensor, _ dtype: DType, _ op: String, _ argument: String) throws {
        guard tensor.dtype == dtype else {
            throw TensorError.dtypeMismatch(op: "\(op) \(argument)", expected: "\(dtype)", got: tensor.dtype)
        }
    }

    /// Throws unless every tensor is a float tensor of the compute dtype (f32).
    public static func float(_ op: String, _ tensors: (Tensor, String)...) throws {
        try float(op, tensors)
    }

    /// Throws unless every tensor is a float tensor of the compute dtype (f32).
    public static func float(_ op: String, _ tensors: [(Tensor, String)]) throws {
        for (tensor, argument) in tensors { try dtype(tensor, .f32, op, argument) }
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
