import SwiftTuneTensor

/// Elementwise ops, reductions and SwiGLU: thin wrappers that validate, stage bf16 tensors through f32
/// (`F32Staging`) and split `CPUKernels` over threads.
extension CPUBackend {
    /// Elements per thread below which elementwise loops stay on one thread.
    static let elementwiseGrain = 1 << 14

    public func add(_ a: Tensor, _ b: Tensor, scale: Float, into out: Tensor) throws {
        try OpCheck.add(a, b, out: out)
        try staged { s in
            let x = SendablePointer(try s.input(a, "add a")), y = SendablePointer(try s.input(b, "add b"))
            let result = SendablePointer(try s.output(out, "add out"))
            parallelFor(a.count, grain: Self.elementwiseGrain) { range in
                CPUKernels.add(x.pointer, y.pointer, scale: scale, into: result.pointer, range: range)
            }
        }
    }

    public func scale(_ x: Tensor, by factor: Float, into out: Tensor) throws {
        try OpCheck.scale(x, out: out)
        try staged { s in
            let input = SendablePointer(try s.input(x, "scale x")), result = SendablePointer(try s.output(out, "scale out"))
            parallelFor(x.count, grain: Self.elementwiseGrain) { range in
                CPUKernels.scale(input.pointer, by: factor, into: result.pointer, range: range)
            }
        }
    }

    public func scale(_ x: Tensor, byDeviceScalar factor: Tensor, into out: Tensor) throws {
        try OpCheck.scaleByDeviceScalar(x, factor: factor, out: out)
        let value = try f32(factor, "scaleByDeviceScalar factor")[0]
        // Multiplying by 1 in place changes no value, so the common no-clip case skips a pass over the gradients.
        if value == 1, out.storage === x.storage, out.byteOffset == x.byteOffset { return }
        try scale(x, by: value, into: out)
    }

    public func addBias(_ x: Tensor, bias: Tensor, into out: Tensor) throws {
        let size = try OpCheck.addBias(x, bias: bias, out: out)
        let (rows, columns) = (size.rows, size.columns)
        try staged { s in
            let input = SendablePointer(try s.input(x, "addBias x"))
            let offsets = SendablePointer(try s.input(bias, "addBias bias"))
            let result = SendablePointer(try s.output(out, "addBias out"))
            parallelFor(rows, grain: max(1, Self.elementwiseGrain / max(columns, 1))) { range in
                CPUKernels.addBias(input.pointer, bias: offsets.pointer, columns: columns, into: result.pointer,
                                   rows: range)
            }
        }
    }

    public func sumRows(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        let size = try OpCheck.sumRows(x, out: out)
        let (rows, columns) = (size.rows, size.columns)
        try staged { s in
            let input = SendablePointer(try s.input(x, "sumRows x"))
            let result = SendablePointer(accumulate ? try s.update(out, "sumRows out") : try s.output(out, "sumRows out"))
            // Split by columns: each thread owns a strip of `out` and the per-column order stays fixed.
            parallelFor(columns, grain: 64) { range in
                CPUKernels.sumRows(input.pointer, rows: rows, width: columns, into: result.pointer,
                                   accumulate: accumulate, columns: range)
            }
        }
    }

    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        try OpCheck.sumOfSquares(x, out: out)
        try staged { s in
            try sumOfSquares(SendablePointer(try s.input(x, "sumOfSquares x")), count: x.count,
                             into: try f32(out, "sumOfSquares out"), accumulate: accumulate)
        }
    }

    /// Σ x² over `count` f32 values into `result[0]` (added when `accumulate`), by fixed blocks.
    private func sumOfSquares(_ input: SendablePointer<Float>, count: Int, into result: UnsafeMutablePointer<Float>,
                              accumulate: Bool) {
        // Fixed blocks (not per-thread chunks) keep the sum independent of the thread count.
        let block = CPUKernels.sumOfSquaresBlock
        let blockCount = (count + block - 1) / block
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: max(blockCount, 1))
        defer { partials.deallocate() }
        let sums = SendablePointer(partials)
        parallelFor(blockCount, grain: 4) { blocks in
            for index in blocks {
                let range = (index * block)..<min((index + 1) * block, count)
                sums[index] = CPUKernels.sumOfSquares(input.pointer, range: range)
            }
        }
        let total = (0..<blockCount).reduce(0.0) { $0 + partials[$1] }
        result[0] = accumulate ? Float(Double(result[0]) + total) : Float(total)
    }

    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        try OpCheck.swiglu(gate: gate, up: up, out: out)
        try staged { s in
            let g = SendablePointer(try s.input(gate, "swiglu gate")), u = SendablePointer(try s.input(up, "swiglu up"))
            let result = SendablePointer(try s.output(out, "swiglu out"))
            parallelFor(gate.count, grain: Self.elementwiseGrain) { range in
                CPUKernels.swiglu(gate: g.pointer, up: u.pointer, into: result.pointer, range: range)
            }
        }
    }

    public func swigluBackward(gate: Tensor, up: Tensor, gradOutput: Tensor,
                               into gradGate: Tensor, gradUp: Tensor) throws {
        try OpCheck.swigluBackward(gate: gate, up: up, gradOutput: gradOutput, gradGate: gradGate, gradUp: gradUp)
        try staged { s in
            let g = SendablePointer(try s.input(gate, "swigluBackward gate"))
            let u = SendablePointer(try s.input(up, "swigluBackward up"))
            let dy = SendablePointer(try s.input(gradOutput, "swigluBackward gradOutput"))
            let dg = SendablePointer(try s.output(gradGate, "swigluBackward gradGate"))
            let du = SendablePointer(try s.output(gradUp, "swigluBackward gradUp"))
            parallelFor(gate.count, grain: Self.elementwiseGrain) { range in
                CPUKernels.swigluBackward(gate: g.pointer, up: u.pointer, gradOutput: dy.pointer,
                                          into: dg.pointer, gradUp: du.pointer, range: range)
            }
        }
    }
}
