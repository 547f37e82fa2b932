/// Host-side conveniences for the edges of a program: building tensors from arrays and reading them back.
extension Backend {
    /// A zero-filled tensor.
    public func zeros(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try allocate(shape: shape, dtype: dtype, zeroed: true)
    }

    /// A tensor with unspecified contents, for outputs that an op overwrites.
    public func empty(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try allocate(shape: shape, dtype: dtype, zeroed: false)
    }

    /// A tensor of `dtype` holding `values` (converted with round-to-nearest-even for bf16/f16).
    public func tensor(_ values: [Float], shape: [Int], dtype: DType = .f32) throws -> Tensor {
        guard values.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(op: "tensor(values:)", expected: "\(values.count) elements", got: shape)
        }
        let result = try empty(shape, dtype: dtype)
        switch dtype {
        case .f32:
            try values.withUnsafeBytes { try upload($0, to: result) }
        case .f64:
            try values.map(Double.init).withUnsafeBytes { try upload($0, to: result) }
        case .bf16:
            try values.map(FloatBits.bf16(from:)).withUnsafeBytes { try upload($0, to: result) }
        case .f16:
            try values.map(FloatBits.f16(from:)).withUnsafeBytes { try upload($0, to: result) }
        case .i32, .i64, .u8:
            throw TensorError.dtypeMismatch(op: "tensor(_: [Float])", expected: "a float dtype", got: dtype)
        }
        return result
    }

    /// An i32 tensor holding `values`.
    public func tensor(_ values: [Int32], shape: [Int]) throws -> Tensor {
        guard values.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(op: "tensor(values:)", expected: "\(values.count) elements", got: shape)
        }
        let result = try empty(shape, dtype: .i32)
        try values.withUnsafeBytes { try upload($0, to: result) }
        return result
    }

    /// A tensor of `dtype` whose bytes are `bytes` (little-endian, row-major).
    public func tensor(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws -> Tensor {
        guard bytes.count == shape.reduce(1, *) * dtype.byteSize else {
            throw TensorError.shapeMismatch(
                op: "tensor(bytes:)", expected: "\(bytes.count / max(dtype.byteSize, 1)) \(dtype) elements", got: shape)
        }
        let result = try empty(shape, dtype: dtype)
        try upload(bytes, to: result)
        return result
    }

    /// The raw bytes of a tensor.
    public func bytes(_ tensor: Tensor) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: tensor.byteCount)
        try out.withUnsafeMutableBytes { try download(tensor, to: $0) }
        return out
    }

    /// The values of a float or integer tensor as f32 (exact for f32/bf16/f16; rounded for f64 and large ints).
    public func floats(_ tensor: Tensor) throws -> [Float] {
        let raw = try bytes(tensor)
        return raw.withUnsafeBytes { buffer -> [Float] in
            switch tensor.dtype {
            case .f32: Array(buffer.bindMemory(to: Float.self))
            case .f64: buffer.bindMemory(to: Double.self).map { Float($0) }
            case .bf16: buffer.bindMemory(to: UInt16.self).map(FloatBits.float(fromBF16:))
            case .f16: buffer.bindMemory(to: UInt16.self).map(FloatBits.float(fromF16:))
            case .i32: buffer.bindMemory(to: Int32.self).map { Float($0) }
            case .i64: buffer.bindMemory(to: Int64.self).map { Float($0) }
            case .u8: buffer.map { Float($0) }
            }
        }
    }

    /// The values of an i32 tensor.
    public func int32s(_ tensor: Tensor) throws -> [Int32] {
        guard tensor.dtype == .i32 else {
            throw TensorError.dtypeMismatch(op: "int32s", expected: "i32", got: tensor.dtype)
        }
        let raw = try bytes(tensor)
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    }

    /// The values of an f64 tensor.
    public func doubles(_ tensor: Tensor) throws -> [Double] {
        guard tensor.dtype == .f64 else {
            throw TensorError.dtypeMismatch(op: "doubles", expected: "f64", got: tensor.dtype)
        }
        let raw = try bytes(tensor)
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }

    /// A new tensor with `source`'s values converted to `dtype` (a plain copy when the dtype matches).
    public func converted(_ source: Tensor, to dtype: DType) throws -> Tensor {
        let result = try empty(source.shape, dtype: dtype)
        if dtype == source.dtype { try copy(source, to: result) } else { try cast(source, to: result) }
        return result
    }
}
