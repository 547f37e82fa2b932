import Foundation

/// Dequantizes rows of ggml tensors to f32, one readable loop per block format.
///
/// Layouts and formulas: ggml's `ggml-common.h` (block structs) and `dequantize_row_*` in `ggml-quants.c`; see also
/// FORMATS.md §2. Every product is evaluated in the reference's order in f32 (`d·sc` first for the k-quants, then
/// `·q`, then `− dmin·m`), and Swift never fuses a multiply-add, so results are bit-identical to gguf-py's NumPy
/// dequantization and to ggml's scalar code compiled without FMA contraction.
public enum GGMLDequantizer {
    /// Dequantizes `rows` rows of `rowLength` values each from `source` (rows of `type.rowByteCount` bytes,
    /// back to back) into `destination` (`rows · rowLength` floats), split over threads by row.
    public static func dequantize(_ type: GGMLType, source: UnsafeRawPointer, rows: Int, rowLength: Int,
                           into destination: UnsafeMutablePointer<Float>) {
        let rowBytes = type.rowByteCount(rowLength) ?? 0
        let pointers = RowPointers(source: source, destination: destination)
        // Chunks of at least 64k values, so small tensors stay on one thread.
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let chunks = max(1, min(threads, rows * rowLength / (1 << 16)))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for row in rows * chunk / chunks ..< rows * (chunk + 1) / chunks {
                dequantizeRow(type, pointers.source + row * rowBytes, count: rowLength,
                              into: pointers.destination + row * rowLength)
            }
        }
    }

    /// One row of `count` values (a multiple of the block size). `type` must be one of `GGMLType.dequantizable`.
    public static func dequantizeRow(_ type: GGMLType, _ x: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        let blocks = count / type.blockSize
        for b in 0..<blocks {
            let block = x + b * type.typeSize, out = y + b * type.blockSize
            switch type {
            case .f32: out[0] = Float(bitPattern: u32(block, 0))
            case .f16: out[0] = f16(block, 0)
            case .bf16: out[0] = Float(bitPattern: UInt32(u16(block, 0)) << 16)
            case .q8_0: q8_0(block, out)
            case .q4_0: q4_0(block, out)
            case .q4_1: q4_1(block, out)
            case .q5_0: q5_0(block, out)
            case .q5_1: q5_1(block, out)
            case .q4K: q4K(block, out)
            case .q5K: q5K(block, out)
            case .q6K: q6K(block, out)
            default: return  // refused earlier by GGUFFile (unsupportedGGMLType)
            }
        }
    }

    // MARK: Legacy quants: blocks of 32 with one f16 scale d (and a min m for the _1 types)

    /// `d f16 @0; qs int8[32] @2`: y = qs·d.
    private static func q8_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: byte(x, 2 + j))) * d }
    }

    /// `d @0; qs[16] @2`: low nibbles are values 0–15, high nibbles 16–31, each (q − 8)·d.
    private static func q4_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0)
        for j in 0..<16 {
            let q = byte(x, 2 + j)
            y[j] = Float(Int(q & 0x0F) - 8) * d
            y[j + 16] = Float(Int(q >> 4) - 8) * d
        }
    }

    /// `d @0; m @2; qs[16] @4`: q·d + m.
    private static func q4_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), m = f16(x, 2)
        for j in 0..<16 {
            let q = byte(x, 4 + j)
            y[j] = Float(q & 0x0F) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }

    /// `d @0; qh u32 @2; qs[16] @6`: the 5th bit of value j is bit j of qh; (q − 16)·d.
    private static func q5_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), qh = u32(x, 2)
        for j in 0..<16 {
            let q = byte(x, 6 + j)
            let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
            let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(low - 16) * d
            y[j + 16] = Float(high - 16) * d
        }
    }

    /// `d @0; m @2; qh u32 @4; qs[16] @8`: q·d + m with the 5th bit from qh.
    private static func q5_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), m = f16(x, 2), qh = u32(x, 4)
        for j in 0..<16 {
            let q = byte(x, 8 + j)
            let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
            let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(low) * d + m
            y[j + 16] = Float(high) * d + m
        }
    }

    // MARK: k-quants: super-blocks of 256 (QK_K)

    /// The 6-bit scale and min of sub-block `j` (0..<8) packed in the 12 bytes at `s` (`get_scale_min_k4`).
    private static func scaleMin(_ j: Int, _ s: UnsafeRawPointer) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(byte(s, j) & 63), Float(byte(s, j + 4) & 63))
        }
        let scale = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
        let min = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    /// `d @0; dmin @2; scales[12] @4; qs[128] @16`: 8 sub-blocks of 32; chunk c's 32 bytes give sub-block 2c
    /// (low nibbles) and 2c+1 (high nibbles); y = (d·sc)·q − (dmin·m).
    private static func q4K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), dmin = f16(x, 2), scales = x + 4
        for c in 0..<4 {
            let (sc1, m1) = scaleMin(2 * c, scales), (sc2, m2) = scaleMin(2 * c + 1, scales)
            let d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2
            for l in 0..<32 {
                let q = byte(x, 16 + 32 * c + l)
                y[64 * c + l] = d1 * Float(q & 0x0F) - min1
                y[64 * c + 32 + l] = d2 * Float(q >> 4) - min2
            }
        }
    }

    /// `d @0; dmin @2; scales[12] @4; qh[32] @16; qs[128] @48`: as Q4_K, and bit i of qh[l] is the 5th bit of
    /// value l in sub-block i.
    private static func q5K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), dmin = f16(x, 2), scales = x + 4
        for c in 0..<4 {
            let (sc1, m1) = scaleMin(2 * c, scales), (sc2, m2) = scaleMin(2 * c + 1, scales)
            let d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2
            for l in 0..<32 {
                let q = byte(x, 48 + 32 * c + l), h = byte(x, 16 + l)
                let low = (q & 0x0F) | ((h >> UInt8(2 * c)) & 1) << 4
                let high = (q >> 4) | ((h >> UInt8(2 * c + 1)) & 1) << 4
                y[64 * c + l] = d1 * Float(low) - min1
                y[64 * c + 32 + l] = d2 * Float(high) - min2
            }
        }
    }

    /// `ql[128] @0; qh[64] @128; scales int8[16] @192; d f16 @208`: two halves of 128; 6-bit values from a
    /// nibble of ql and two bits of qh, minus 32; y = (d·sc)·q with one int8 scale per 16 values.
    private static func q6K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 208)
        for half in 0..<2 {
            let ql = 64 * half, qh = 128 + 32 * half, sc = 192 + 8 * half, out = y + 128 * half
            for l in 0..<32 {
                let s = l / 16, h = byte(x, qh + l)
                let q1 = Int((byte(x, ql + l) & 0x0F) | ((h >> 0) & 3) << 4) - 32
                let q2 = Int((byte(x, ql + l + 32) & 0x0F) | ((h >> 2) & 3) << 4) - 32
                let q3 = Int((byte(x, ql + l) >> 4) | ((h >> 4) & 3) << 4) - 32
                let q4 = Int((byte(x, ql + l + 32) >> 4) | ((h >> 6) & 3) << 4) - 32
                out[l] = d * scale(x, sc + s) * Float(q1)
                out[l + 32] = d * scale(x, sc + s + 2) * Float(q2)
                out[l + 64] = d * scale(x, sc + s + 4) * Float(q3)
                out[l + 96] = d * scale(x, sc + s + 6) * Float(q4)
            }
        }
    }

    // MARK: Unaligned little-endian loads

    @inline(__always) private static func byte(_ x: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        x.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always) private static func scale(_ x: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Int8(bitPattern: byte(x, offset)))
    }

    @inline(__always) private static func u16(_ x: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: x.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always) private static func u32(_ x: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: x.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// IEEE binary16 → f32 (exact).
    @inline(__always) private static func f16(_ x: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: u16(x, offset)))
    }
}

/// The pointers handed to worker threads; each thread writes a disjoint range of rows.
private struct RowPointers: @unchecked Sendable {
    let source: UnsafeRawPointer
    let destination: UnsafeMutablePointer<Float>
}
