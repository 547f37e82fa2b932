import SwiftTuneQuantization

extension OpCheck {
    /// `dequantize`: `blocks` u8 holding `out`'s rows in `format`, `out` f32 `[rows, columns]` with whole blocks per
    /// row. Returns the matrix size.
    public static func dequantize(_ blocks: Tensor, format: BlockFormat, out: Tensor) throws -> RowShape {
        let op = "dequantize(\(format))"
        try dtype(blocks, .u8, op, "blocks")
        try storage(op, (out, "out"))
        try rank(out, 2, op, "out", layout: "[rows, columns]")
        let size = RowShape(rows: out.size(0), columns: out.size(1))
        guard let rowBytes = format.rowByteCount(size.columns) else {
            throw TensorError.shapeMismatch(op: "\(op) out", expected: "rows of whole \(format.blockSize)-value blocks",
                                            got: out.shape)
        }
        try count(blocks, size.rows * rowBytes, op, "blocks (\(size.rows) rows of \(rowBytes) bytes)")
        return size
    }
}

extension OpCheck {
    /// `dequantize4Bit`: `out` (any shape, f32 or bf16) of n values; `packed` u8 `[(n + 1) / 2]`; `absmax` f32
    /// `[ceil(n / blockSize)]`, or u8 with `nested` (scales f32 `[ceil(blocks / nested.blockSize)]`, map f32 `[256]`).
    /// Returns n.
    public static func dequantize4Bit(_ weight: FourBitWeightTensors, out: Tensor) throws -> Int {
        let op = "dequantize4Bit(\(weight.quantType))"
        try storage(op, (out, "out"))
        guard weight.blockSize > 0, weight.nested.map({ $0.blockSize > 0 }) ?? true else {
            throw TensorError.invalidArgument(op: op, reason: "block sizes must be positive")
        }
        let n = out.count
        let blocks = (n + weight.blockSize - 1) / weight.blockSize
        try dtype(weight.packed, .u8, op, "packed")
        try count(weight.packed, (n + 1) / 2, op, "packed ((n + 1) / 2 bytes for \(n) values)")
        if let nested = weight.nested {
            try dtype(weight.absmax, .u8, op, "absmax (8-bit codes)")
            try count(weight.absmax, blocks, op, "absmax (one per \(weight.blockSize) values)")
            try float(op, (nested.scales, "nested scales"), (nested.map, "nested map"))
            try count(nested.scales, (blocks + nested.blockSize - 1) / nested.blockSize, op,
                      "nested scales (one per \(nested.blockSize) blocks)")
            try count(nested.map, 256, op, "nested map")
        } else {
            try dtype(weight.absmax, .f32, op, "absmax")
            try count(weight.absmax, blocks, op, "absmax (one per \(weight.blockSize) values)")
        }
        return n
    }
}

extension OpCheck {
    /// `quantize4Bit`: `values` (any shape, f32 or bf16) of n values; `packed` u8 `[(n + 1) / 2]`; `absmax` f32
    /// `[ceil(n / blockSize)]`. Returns n.
    public static func quantize4Bit(_ values: Tensor, quantType: FourBitQuantType, blockSize: Int, packed: Tensor,
                                    absmax: Tensor) throws -> Int {
        let op = "quantize4Bit(\(quantType))"
        try storage(op, (values, "values"))
        guard blockSize > 0, blockSize % 2 == 0 else {
            throw TensorError.invalidArgument(op: op, reason: "the block size must be positive and even, got \(blockSize)")
        }
        let n = values.count
        try dtype(packed, .u8, op, "packed")
        try count(packed, (n + 1) / 2, op, "packed ((n + 1) / 2 bytes for \(n) values)")
        try dtype(absmax, .f32, op, "absmax")
        try count(absmax, (n + blockSize - 1) / blockSize, op, "absmax (one per \(blockSize) values)")
        return n
    }
}
