import SwiftTuneTensor

/// Host-side checks of op arguments, so a wrong shape or dtype throws a `TensorError` naming the op and the argument
/// before anything is queued on the GPU. `role` is the argument's name in the `Backend` protocol.
enum Validate {
    static func dtype(_ tensor: Tensor, _ dtype: DType, _ op: String, _ role: String) throws {
        guard tensor.dtype == dtype else {
            throw TensorError.dtypeMismatch(op: "\(op)(\(role))", expected: "\(dtype)", got: tensor.dtype)
        }
    }

    static func f32(_ tensors: [(Tensor, String)], _ op: String) throws {
        for (tensor, role) in tensors { try dtype(tensor, .f32, op, role) }
    }

    static func count(_ tensor: Tensor, _ expected: Int, _ op: String, _ role: String) throws {
        guard tensor.count == expected else {
            throw TensorError.shapeMismatch(op: "\(op)(\(role))", expected: "\(expected) elements", got: tensor.shape)
        }
    }

    static func shape(_ tensor: Tensor, _ expected: [Int], _ op: String, _ role: String) throws {
        guard tensor.shape == expected else {
            throw TensorError.shapeMismatch(op: "\(op)(\(role))", expected: "\(expected)", got: tensor.shape)
        }
    }

    static func rank(_ tensor: Tensor, _ expected: Int, _ op: String, _ role: String, _ layout: String) throws {
        guard tensor.rank == expected else {
            throw TensorError.shapeMismatch(op: "\(op)(\(role))", expected: layout, got: tensor.shape)
        }
    }

    /// The last dimension of `tensor` and the number of rows before it (`[rows, columns]` view of any rank ≥ 1).
    static func rows(_ tensor: Tensor, _ op: String, _ role: String) throws -> (rows: Int, columns: Int) {
        guard tensor.rank >= 1 else {
            throw TensorError.shapeMismatch(op: "\(op)(\(role))", expected: "[rows, columns]", got: tensor.shape)
        }
        let columns = tensor.size(-1)
        return (columns == 0 ? 0 : tensor.count / columns, columns)
    }

    /// Sizes passed to kernels as `int` must fit in 32 bits.
    static func fitsInt32(_ values: [Int], _ op: String, _ shape: [Int]) throws {
        guard values.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw TensorError.shapeMismatch(op: op, expected: "dimensions below 2^31", got: shape)
        }
    }
}
