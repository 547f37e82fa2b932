import SwiftTuneTensor

/// The f32 view of one op's tensors, so that every CPU kernel stays an f32 kernel while the tensors may be stored in
/// bf16 (`OpCheck`'s storage rules).
///
/// An f32 tensor is handed to the kernel in place: the f32 path is the same pointers as before, with nothing
/// allocated. A bf16 tensor gets an f32 scratch copy, widened exactly (`FloatBits.float(fromBF16:)`); the scratch of
/// an output is rounded back into the tensor (`FloatBits.bf16(from:)`, round to nearest even) when the op finishes,
/// so a bf16 op's result is `round_bf16(f32 op(widened inputs))` bit for bit. An f32 accumulator of a bf16 op
/// (`matmul`'s c, `gradWeight`, `gradTable`, `sumRows`' out) is used in place and so accumulates in f32.
///
/// Use it through `CPUBackend.staged`, which rounds the outputs back after the body and frees the scratch.
struct F32Staging: ~Copyable {
    let backend: CPUBackend
    /// Every scratch buffer, freed by `release`.
    private var scratch: [UnsafeMutablePointer<Float>] = []
    /// Scratch buffers rounded back into their bf16 tensors by `finish`.
    private var pending: [(scratch: SendablePointer<Float>, tensor: Tensor)] = []

    init(backend: CPUBackend) { self.backend = backend }

    /// f32 values of `tensor` for the kernel to read.
    mutating func input(_ tensor: Tensor, _ argument: String) throws -> UnsafeMutablePointer<Float> {
        try view(tensor, argument, read: true, write: false)
    }

    /// f32 memory the kernel writes in full (its prior contents are not read).
    mutating func output(_ tensor: Tensor, _ argument: String) throws -> UnsafeMutablePointer<Float> {
        try view(tensor, argument, read: false, write: true)
    }

    /// f32 values the kernel reads and writes: accumulators, and products with a nonzero beta.
    mutating func update(_ tensor: Tensor, _ argument: String) throws -> UnsafeMutablePointer<Float> {
        try view(tensor, argument, read: true, write: true)
    }

    private mutating func view(_ tensor: Tensor, _ argument: String, read: Bool,
                               write: Bool) throws -> UnsafeMutablePointer<Float> {
        switch tensor.dtype {
        case .f32:
            return try backend.f32(tensor, argument)
        case .bf16:
            let count = tensor.count
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            scratch.append(buffer)
            if read {
                let bits = SendablePointer(try backend.raw(tensor).bindMemory(to: UInt16.self, capacity: count))
                let wide = SendablePointer(buffer)
                backend.parallelFor(count, grain: CPUBackend.elementwiseGrain) { range in
                    for i in range { wide[i] = FloatBits.float(fromBF16: bits[i]) }
                }
            }
            if write { pending.append((SendablePointer(buffer), tensor)) }
            return buffer
        default:
            throw TensorError.dtypeMismatch(op: argument, expected: "f32 or bf16", got: tensor.dtype)
        }
    }

    /// Rounds every output's scratch into its bf16 tensor.
    func finish() throws {
        for (wide, tensor) in pending {
            let count = tensor.count
            let bits = SendablePointer(try backend.raw(tensor).bindMemory(to: UInt16.self, capacity: count))
            backend.parallelFor(count, grain: CPUBackend.elementwiseGrain) { range in
                for i in range { bits[i] = FloatBits.bf16(from: wide[i]) }
            }
        }
    }

    /// Frees the scratch.
    consuming func release() {
        for buffer in scratch { buffer.deallocate() }
    }
}

extension CPUBackend {
    /// Runs an op's body with an `F32Staging` of its tensors: bf16 outputs are rounded back when the body returns;
    /// the scratch is freed either way.
    func staged<Result>(_ body: (inout F32Staging) throws -> Result) throws -> Result {
        var staging = F32Staging(backend: self)
        do {
            let result = try body(&staging)
            try staging.finish()
            staging.release()
            return result
        } catch {
            staging.release()
            throw error
        }
    }
}
