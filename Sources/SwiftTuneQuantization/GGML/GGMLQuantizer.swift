import Foundation

/// Quantizes f32 rows into ggml blocks with ggml's reference rounding, so a file written here holds the same bytes
/// llama.cpp writes for the same f32 input (`quantize_row_*_ref` in ggml-quants.c, `ggml_compute_fp32_to_bf16` in
/// ggml-impl.h; FORMATS.md §2).
///
/// Every operation is evaluated in f32 in the reference's order, and Swift never contracts a multiply-add into an
/// FMA, so the results are bit-identical to gguf-py's NumPy quantizers (Q8_0, Q4_0, Q4_1, Q5_0, BF16) and to ggml's
/// scalar C code (the k-quants, which gguf-py cannot quantize). `GGMLDequantizer` is the inverse.
///
/// ```swift
/// let bytes = try GGMLQuantizer.quantize(weights, rowLength: 576, as: .q8_0)   // 576 / 32 · 34 bytes per row
/// ```
public enum GGMLQuantizer {
    /// The types `quantize` writes.
    public static let quantizable: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q4K, .q6K]

    /// Quantizes `values` (row-major, `values.count / rowLength` rows of `rowLength`) to rows of `type` blocks.
    ///
    /// - Throws: `invalidArgument` when `type` is not in `quantizable`, or `rowLength` is not a whole number of
    ///   blocks (for the k-quants: 256) or does not divide `values.count`.
    public static func quantize(_ values: [Float], rowLength: Int, as type: GGMLType) throws(QuantizationError) -> [UInt8] {
        guard quantizable.contains(type) else {
            throw .invalidArgument(operation: "GGMLQuantizer.quantize",
                                   reason: "cannot write \(type); writable: \(quantizable.map(\.name).joined(separator: ", "))")
        }
        guard rowLength > 0, values.count % rowLength == 0, let rowBytes = type.rowByteCount(rowLength) else {
            throw .invalidArgument(operation: "GGMLQuantizer.quantize(\(type))",
                                   reason: "rows of \(rowLength) values are not whole \(type.blockSize)-value blocks "
                                       + "(or do not divide \(values.count) values)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .invalidArgument(operation: "GGMLQuantizer.quantize(\(type))",
                                   reason: "value \(bad) (row \(bad / rowLength), column \(bad % rowLength)) is \(values[bad])")
        }
        let rows = values.count / rowLength
        var output = [UInt8](repeating: 0, count: rows * rowBytes)
        values.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBytes { destination in
                guard let input = source.baseAddress, let out = destination.baseAddress else { return }
                let pointers = QuantizerPointers(source: input, destination: out)
                // Chunks of at least 64k values, so small tensors stay on one thread; rows are independent.
                let chunks = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows * rowLength / (1 << 16)))
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for row in rows * chunk / chunks ..< rows * (chunk + 1) / chunks {
                        quantizeRow(type, pointers.source + row * rowLength, count: rowLength,
                                    into: pointers.destination + row * rowBytes)
                    }
                }
            }
        }
        return output
    }

    /// One row of `count` values (a whole number of blocks) into `y`.
    static func quantizeRow(_ type: GGMLType, _ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutableRawPointer) {
        let blocks = count / type.blockSize
        for b in 0..<blocks {
            let block = x + b * type.blockSize, out = y + b * type.typeSize
            switch type {
            case .f32: store(block[0].bitPattern, out, 0)
            case .f16: store(Float16(block[0]).bitPattern, out, 0)
            case .bf16: store(bf16(block[0]), out, 0)
            case .q8_0: q8_0(block, out)
            case .q4_0: q4_0(block, out)
            case .q4_1: q4_1(block, out)
            case .q5_0: q5_0(block, out)
            case .q4K: q4K(block, out)
            case .q6K: q6K(block, out)
            default: return  // refused by quantize(_:rowLength:as:)
            }
        }
    }

    /// f32 → bf16 as ggml rounds it: NaN stays a quiet NaN, everything else rounds to nearest even.
    public static func bf16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: (bits >> 16) | 64) }
        return UInt16(truncatingIfNeeded: (UInt64(bits) + 0x7FFF + UInt64((bits >> 16) & 1)) >> 16)
    }

    // MARK: Legacy quants: blocks of 32

    /// Q8_0: `d = max|x| / 127`, `q = round(x / d)` (half away from zero), `d` stored as f16.
    private static func q8_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let inverse: Float = d != 0 ? 1 / d : 0
        store(Float16(d).bitPattern, y, 0)
        for j in 0..<32 {
            y.storeBytes(of: Int8(clamping: finiteInt((x[j] * inverse).rounded(.toNearestOrAwayFromZero))),
                         toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// Q4_0: the value of largest magnitude (first one on ties, sign kept) gives `d = max / −8`;
    /// `q = min(15, trunc(x/d + 8.5))`; low nibbles hold values 0–15, high nibbles 16–31.
    private static func q4_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        let (_, signedMax) = largestMagnitude(x, 32)
        let d = signedMax / -8
        let inverse: Float = d != 0 ? 1 / d : 0
        store(Float16(d).bitPattern, y, 0)
        for j in 0..<16 {
            let low = min(15, truncatedInt8(x[j] * inverse + 8.5))
            let high = min(15, truncatedInt8(x[j + 16] * inverse + 8.5))
            y.storeBytes(of: UInt8(truncatingIfNeeded: low) | UInt8(truncatingIfNeeded: high) << 4, toByteOffset: 2 + j,
                         as: UInt8.self)
        }
    }

    /// Q4_1: `d = (max − min) / 15`, `m = min`, `q = min(15, trunc((x − min)/d + 0.5))`.
    private static func q4_1(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        var low = Float.greatestFiniteMagnitude, high = -Float.greatestFiniteMagnitude
        for j in 0..<32 {
            if x[j] < low { low = x[j] }
            if x[j] > high { high = x[j] }
        }
        let d = (high - low) / 15
        let inverse: Float = d != 0 ? 1 / d : 0
        store(Float16(d).bitPattern, y, 0)
        store(Float16(low).bitPattern, y, 2)
        for j in 0..<16 {
            let a = min(15, truncatedInt8((x[j] - low) * inverse + 0.5))
            let b = min(15, truncatedInt8((x[j + 16] - low) * inverse + 0.5))
            y.storeBytes(of: UInt8(truncatingIfNeeded: a) | UInt8(truncatingIfNeeded: b) << 4, toByteOffset: 4 + j,
                         as: UInt8.self)
        }
    }

    /// Q5_0 (the fallback of Q4_K for rows not divisible by 256): as Q4_0 with `d = max / −16`,
    /// `q = min(31, trunc(x/d + 16.5))`; the 5th bits go into `qh` (bit j for value j).
    private static func q5_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        let (_, signedMax) = largestMagnitude(x, 32)
        let d = signedMax / -16
        let inverse: Float = d != 0 ? 1 / d : 0
        store(Float16(d).bitPattern, y, 0)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = UInt8(truncatingIfNeeded: min(31, truncatedInt8(x[j] * inverse + 16.5)))
            let b = UInt8(truncatingIfNeeded: min(31, truncatedInt8(x[j + 16] * inverse + 16.5)))
            y.storeBytes(of: (a & 0x0F) | (b & 0x0F) << 4, toByteOffset: 6 + j, as: UInt8.self)
            qh |= UInt32((a & 0x10) >> 4) << UInt32(j)
            qh |= UInt32((b & 0x10) >> 4) << UInt32(j + 16)
        }
        store(qh, y, 2)
    }

    // MARK: Helpers shared with the k-quants

    /// max |x| and the value that has it (the first on ties), as the reference's strict `<` scan finds them.
    static func largestMagnitude(_ x: UnsafePointer<Float>, _ n: Int) -> (magnitude: Float, value: Float) {
        var amax: Float = 0, value: Float = 0
        for i in 0..<n where amax < abs(x[i]) {
            amax = abs(x[i])
            value = x[i]
        }
        return (amax, value)
    }

    /// C's `(int8_t)f`: truncation toward zero, then the low 8 bits (the values here always fit).
    @inline(__always) static func truncatedInt8(_ value: Float) -> Int {
        Int(Int8(truncatingIfNeeded: finiteInt(value.rounded(.towardZero))))
    }

    /// An integral float as an Int; 0 for the infinities a subnormal scale can produce (C leaves those undefined).
    @inline(__always) static func finiteInt(_ value: Float) -> Int {
        abs(value) < 1e9 ? Int(value) : 0
    }

    @inline(__always) static func store<T: FixedWidthInteger>(_ value: T, _ y: UnsafeMutableRawPointer, _ offset: Int) {
        y.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}

/// The pointers handed to worker threads; each writes a disjoint range of rows.
private struct QuantizerPointers: @unchecked Sendable {
    let source: UnsafePointer<Float>
    let destination: UnsafeMutableRawPointer
}
