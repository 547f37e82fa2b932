import SwiftTuneTensor

/// One shape of the LoRA side-path cases: x `[n, width]`, rank r, drop probability.
private struct LoRAShape {
    var n: Int, width: Int, rank: Int, probability: Float
    var name: String { "\(n)×\(width) r \(rank) p \(probability)" }
}

/// Shapes for the fused kernels (ranks 4, 8, 16, 32; more than 256 rows, so `loraDownGradient` sums row chunks) and
/// for the composed fallback (rank 12, an odd width).
private let loraShapes = [
    LoRAShape(n: 37, width: 300, rank: 8, probability: 0.1), LoRAShape(n: 37, width: 300, rank: 4, probability: 0.5),
    LoRAShape(n: 300, width: 130, rank: 16, probability: 0.05), LoRAShape(n: 600, width: 72, rank: 32, probability: 0.1),
    LoRAShape(n: 37, width: 300, rank: 8, probability: 0), LoRAShape(n: 37, width: 300, rank: 12, probability: 0.1),
    LoRAShape(n: 5, width: 301, rank: 8, probability: 0.1),
]

/// Random inputs of one shape: x, a, du, and the starting dA and dx the ops accumulate into.
private struct LoRAInputs {
    var x: [Float], a: [Float], du: [Float], dA: [Float], dx: [Float]

    init(_ shape: LoRAShape, _ values: (Int, Float) -> [Float]) {
        x = values(shape.n * shape.width, 1)
        a = values(shape.rank * shape.width, 0.1)
        du = values(shape.n * shape.rank, 0.5)
        dA = values(shape.rank * shape.width, 0.1)
        dx = values(shape.n * shape.width, 0.1)
    }
}

extension ComparisonCase {
    /// `loraDown`, `loraDownGradient` and `loraInputGradient` in f32, each against the composed reference.
    static func loraCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        var cases: [ComparisonCase] = []
        for (index, shape) in loraShapes.enumerated() {
            let inputs = LoRAInputs(shape) { count, scale in (0..<count).map { _ in Float.random(in: -scale...scale, using: &random) } }
            let maskSeed = seed &+ UInt64(index) &* 0x9E37
            let (n, width, rank) = (shape.n, shape.width, shape.rank)
            cases.append(ComparisonCase(op: "loraDown", variant: shape.name, tolerance: Tolerance.matmul) { backend in
                let u = try backend.empty([n, rank])
                try backend.loraDown(try backend.tensor(inputs.x, shape: [n, width]),
                                     a: try backend.tensor(inputs.a, shape: [rank, width]),
                                     probability: shape.probability, seed: maskSeed, into: u)
                return [("u", try backend.floats(u))]
            })
            cases.append(ComparisonCase(op: "loraDownGradient", variant: shape.name, tolerance: Tolerance.matmul) { backend in
                let dA = try backend.tensor(inputs.dA, shape: [rank, width])
                try backend.loraDownGradient(try backend.tensor(inputs.du, shape: [n, rank]),
                                             x: try backend.tensor(inputs.x, shape: [n, width]),
                                             probability: shape.probability, seed: maskSeed, accumulateInto: dA)
                return [("dA", try backend.floats(dA))]
            })
            cases.append(ComparisonCase(op: "loraInputGradient", variant: shape.name, tolerance: Tolerance.matmul) { backend in
                let dx = try backend.tensor(inputs.dx, shape: [n, width])
                try backend.loraInputGradient(try backend.tensor(inputs.du, shape: [n, rank]),
                                              a: try backend.tensor(inputs.a, shape: [rank, width]),
                                              probability: shape.probability, seed: maskSeed, accumulateInto: dx)
                return [("dx", try backend.floats(dx))]
            })
        }
        return cases
    }

    /// The same ops with bf16 storage (dA stays an f32 accumulator).
    static func bf16LoRACases(seed: UInt64) -> [BF16ComparisonCase] {
        var inputs = BF16Inputs(seed: seed)
        var list = BF16CaseList()
        for (index, shape) in loraShapes.enumerated() {
            let values = LoRAInputs(shape) { count, scale in inputs.values(count, scale) }
            let maskSeed = seed &+ UInt64(index) &* 0x9E37
            let (n, width, rank) = (shape.n, shape.width, shape.rank)
            list.add("loraDown", shape.name, Tolerance.matmul) { backend, storage in
                let u = try backend.empty([n, rank], dtype: storage)
                try backend.loraDown(try backend.tensor(values.x, shape: [n, width], dtype: storage),
                                     a: try backend.tensor(values.a, shape: [rank, width], dtype: storage),
                                     probability: shape.probability, seed: maskSeed, into: u)
                // The composed path rounds dropout(x) = x · 1/(1 − p) into bf16 before the product (the fused kernel
                // keeps it in f32): each u sums `width` such roundings, so u is held to 1/128 of the whole output's
                // scale rather than of its own row of `rank` values.
                return [try BF16Output("u", backend, u, .stored(rowLength: n * rank))]
            }
            list.add("loraDownGradient", shape.name, Tolerance.matmul) { backend, storage in
                let dA = try backend.tensor(values.dA, shape: [rank, width])
                try backend.loraDownGradient(try backend.tensor(values.du, shape: [n, rank], dtype: storage),
                                             x: try backend.tensor(values.x, shape: [n, width], dtype: storage),
                                             probability: shape.probability, seed: maskSeed, accumulateInto: dA)
                // f32, but the composed path (any backend without the fused kernel) sums a bf16-stored dropout(x),
                // so dA is held to a bf16 output's row tolerance, not an f32 statistic's.
                return [try BF16Output("dA", backend, dA, .stored(rowLength: width))]
            }
            list.add("loraInputGradient", shape.name, Tolerance.matmul) { backend, storage in
                let dx = try backend.tensor(values.dx, shape: [n, width], dtype: storage)
                try backend.loraInputGradient(try backend.tensor(values.du, shape: [n, rank], dtype: storage),
                                              a: try backend.tensor(values.a, shape: [rank, width], dtype: storage),
                                              probability: shape.probability, seed: maskSeed, accumulateInto: dx)
                return [try BF16Output("dx", backend, dx)]
            }
        }
        return list.cases
    }
}
