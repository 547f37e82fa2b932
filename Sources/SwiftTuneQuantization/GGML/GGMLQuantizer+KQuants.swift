/// The k-quant reference quantizers Q4_K and Q6_K: super-blocks of 256 (QK_K) with sub-block scales, following
/// `quantize_row_q4_K_ref` and `quantize_row_q6_K_ref` in ggml-quants.c (no importance matrix). Layouts are in
/// FORMATS.md §2 and `GGMLDequantizer`.
///
/// Both search a scale per sub-block, quantize the sub-block scales themselves (6 bits for Q4_K, int8 for Q6_K),
/// then re-round every value against the stored (f16-rounded) scales. Sums run in the reference's order in f32.
extension GGMLQuantizer {
    /// ggml's `nearest_int`: round half to even by adding 1.5·2²³ and reading the low mantissa bits
    /// (valid for |x| ≤ 4194303, which the callers guarantee for finite input).
    @inline(__always) static func nearestInt(_ value: Float) -> Int {
        let shifted = value + 12_582_912
        return Int(shifted.bitPattern & 0x007F_FFFF) - 0x0040_0000
    }

    // MARK: Q4_K

    /// `d f16 @0; dmin f16 @2; scales[12] @4; qs[128] @16`: 8 sub-blocks of 32, each `x ≈ d·sc·q − dmin·m` with a
    /// 6-bit `sc`, 6-bit `m` and 4-bit `q`.
    static func q4K(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256 + 32) { bytes in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 + 8 + 32) { floats in
                guard let levels = bytes.baseAddress, let scales = floats.baseAddress else { return }
                let scratch = levels + 256, mins = scales + 8, weights = scales + 16
                var maxScale: Float = 0, maxMin: Float = 0
                for j in 0..<8 {
                    let xs = x + 32 * j
                    var sumSquares: Float = 0
                    for l in 0..<32 { sumSquares += xs[l] * xs[l] }
                    let averageMagnitude = (sumSquares / 32).squareRoot()
                    for l in 0..<32 { weights[l] = averageMagnitude + abs(xs[l]) }
                    let (scale, minimum) = makeScaleAndMin(32, levelMax: 15, xs, weights: weights, levels: levels + 32 * j,
                                                           scratch: scratch, rmin: -1, rdelta: 0.1, steps: 20)
                    scales[j] = scale
                    mins[j] = minimum
                    if scale > maxScale { maxScale = scale }
                    if minimum > maxMin { maxMin = minimum }
                }
                let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0
                let inverseMin: Float = maxMin > 0 ? 63 / maxMin : 0
                let packed = y + 4
                for i in 0..<12 { packed.storeBytes(of: 0, toByteOffset: i, as: UInt8.self) }
                func byte(_ i: Int) -> UInt8 { packed.load(fromByteOffset: i, as: UInt8.self) }
                func set(_ i: Int, _ value: UInt8) { packed.storeBytes(of: value, toByteOffset: i, as: UInt8.self) }
                for j in 0..<8 {
                    let ls = min(63, UInt8(truncatingIfNeeded: nearestInt(inverseScale * scales[j])))
                    let lm = min(63, UInt8(truncatingIfNeeded: nearestInt(inverseMin * mins[j])))
                    if j < 4 {
                        set(j, ls)
                        set(j + 4, lm)
                    } else {
                        set(j + 4, (ls & 0x0F) | (lm & 0x0F) << 4)
                        set(j - 4, byte(j - 4) | (ls >> 4) << 6)
                        set(j, byte(j) | (lm >> 4) << 6)
                    }
                }
                let d = Float16(maxScale / 63), dmin = Float16(maxMin / 63)
                store(d.bitPattern, y, 0)
                store(dmin.bitPattern, y, 2)
                for j in 0..<8 {
                    let (sc, m) = scaleAndMin(j, packed)
                    let scale = Float(d) * Float(sc)
                    if scale == 0 { continue }  // keep the levels the search chose, as the reference does
                    let offset = Float(dmin) * Float(m)
                    for i in 0..<32 {
                        levels[32 * j + i] = UInt8(max(0, min(15, nearestInt((x[32 * j + i] + offset) / scale))))
                    }
                }
                // Chunk c's 32 bytes: sub-block 2c in the low nibbles, 2c+1 in the high ones.
                for c in 0..<4 {
                    for l in 0..<32 {
                        y.storeBytes(of: levels[64 * c + l] | levels[64 * c + 32 + l] << 4, toByteOffset: 16 + 32 * c + l,
                                     as: UInt8.self)
                    }
                }
            }
        }
    }

    /// The 6-bit scale and min of sub-block `j` from the 12 packed bytes (`get_scale_min_k4`).
    private static func scaleAndMin(_ j: Int, _ s: UnsafeMutableRawPointer) -> (UInt8, UInt8) {
        func byte(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (byte(j) & 63, byte(j + 4) & 63) }
        return ((byte(j + 4) & 0x0F) | (byte(j - 4) >> 6) << 4, (byte(j + 4) >> 4) | (byte(j) >> 6) << 4)
    }

    /// `make_qkx2_quants`: levels in 0…levelMax for `x ≈ scale·l − min` (min ≥ 0), minimizing the weighted squared
    /// error over `steps + 1` trial scales around `levelMax / (max − min)`, each refit by weighted least squares.
    /// - Returns: the scale and the (non-negative) min; `levels` holds the chosen levels.
    private static func makeScaleAndMin(_ n: Int, levelMax: Int, _ x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                        levels: UnsafeMutablePointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>,
                                        rmin: Float, rdelta: Float, steps: Int) -> (scale: Float, min: Float) {
        var low = x[0], high = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < low { low = x[i] }
            if x[i] > high { high = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if low > 0 { low = 0 }
        if high == low {
            for i in 0..<n { levels[i] = 0 }
            return (0, -low)
        }
        let top = Float(levelMax)
        var inverse = top / (high - low)
        var scale = 1 / inverse
        var bestError: Float = 0
        for i in 0..<n {
            levels[i] = UInt8(max(0, min(levelMax, nearestInt(inverse * (x[i] - low)))))
            let diff = scale * Float(levels[i]) + low - x[i]
            bestError += weights[i] * (diff * diff)
        }
        for step in 0...steps {
            inverse = (rmin + rdelta * Float(step) + top) / (high - low)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let level = max(0, min(levelMax, nearestInt(inverse * (x[i] - low))))
                scratch[i] = UInt8(level)
                let w = weights[i], l = Float(level)
                sumL += w * l
                sumL2 += w * l * l
                sumXL += w * l * x[i]
            }
            let determinant = sumW * sumL2 - sumL * sumL
            guard determinant > 0 else { continue }
            var trialScale = (sumW * sumXL - sumX * sumL) / determinant
            var trialMin = (sumL2 * sumX - sumL * sumXL) / determinant
            if trialMin > 0 {
                trialMin = 0
                trialScale = sumXL / sumL2
            }
            var error: Float = 0
            for i in 0..<n {
                let diff = trialScale * Float(scratch[i]) + trialMin - x[i]
                error += weights[i] * (diff * diff)
            }
            if error < bestError {
                for i in 0..<n { levels[i] = scratch[i] }
                bestError = error
                scale = trialScale
                low = trialMin
            }
        }
        return (scale, -low)
    }

    // MARK: Q6_K

    /// `ql[128] @0; qh[64] @128; scales int8[16] @192; d f16 @208`: 16 sub-blocks of 16, `x ≈ d·sc·(q − 32)` with an
    /// int8 `sc` and a 6-bit `q`.
    static func q6K(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { buffer in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { scaleBuffer in
                guard let levels = buffer.baseAddress, let scales = scaleBuffer.baseAddress else { return }
                var maxScale: Float = 0, maxAbsScale: Float = 0
                for block in 0..<16 {
                    let scale = makeSymmetricScale(16, levelMax: 32, x + 16 * block, levels: levels + 16 * block)
                    scales[block] = scale
                    if abs(scale) > maxAbsScale {
                        maxAbsScale = abs(scale)
                        maxScale = scale
                    }
                }
                if maxAbsScale < 1e-15 {  // GROUP_MAX_EPS: an all-zero block
                    for i in 0..<210 { y.storeBytes(of: 0, toByteOffset: i, as: UInt8.self) }
                    return
                }
                let inverse: Float = -128 / maxScale
                let d = Float16(1 / inverse)
                store(d.bitPattern, y, 208)
                for block in 0..<16 {
                    let scale = Int8(truncatingIfNeeded: min(127, nearestInt(inverse * scales[block])))
                    y.storeBytes(of: scale, toByteOffset: 192 + block, as: Int8.self)
                }
                for block in 0..<16 {
                    let scale = Float(d) * Float(y.load(fromByteOffset: 192 + block, as: Int8.self))
                    if scale == 0 { continue }
                    for i in 0..<16 {
                        levels[16 * block + i] = Int8(max(-32, min(31, nearestInt(x[16 * block + i] / scale))) + 32)
                    }
                }
                func level(_ i: Int) -> UInt8 { UInt8(bitPattern: levels[i]) }
                for half in 0..<2 {
                    let j = 128 * half, ql = 64 * half, qh = 128 + 32 * half
                    for l in 0..<32 {
                        let (a, b, c, e) = (level(j + l), level(j + l + 32), level(j + l + 64), level(j + l + 96))
                        y.storeBytes(of: (a & 0x0F) | (c & 0x0F) << 4, toByteOffset: ql + l, as: UInt8.self)
                        y.storeBytes(of: (b & 0x0F) | (e & 0x0F) << 4, toByteOffset: ql + l + 32, as: UInt8.self)
                        y.storeBytes(of: (a >> 4) | (b >> 4) << 2 | (c >> 4) << 4 | (e >> 4) << 6, toByteOffset: qh + l,
                                     as: UInt8.self)
                    }
                }
            }
        }
    }

    /// `make_qx_quants` with `rmse_type` 1 (weights x²): levels l + levelMax for `x ≈ scale·l`, l in −levelMax…levelMax−1,
    /// trying 18 scales around `−levelMax / max` and keeping the weighted least-squares fit with the largest Σlx²/Σl².
    private static func makeSymmetricScale(_ n: Int, levelMax: Int, _ x: UnsafePointer<Float>,
                                           levels: UnsafeMutablePointer<Int8>) -> Float {
        let (magnitude, signedMax) = largestMagnitude(x, n)
        if magnitude < 1e-15 {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        func level(_ value: Float, _ inverse: Float) -> Int { max(-levelMax, min(levelMax - 1, nearestInt(inverse * value))) }
        var inverse = Float(-levelMax) / signedMax
        var sumLX: Float = 0, sumL2: Float = 0
        for i in 0..<n {
            let l = level(x[i], inverse)
            levels[i] = Int8(l + levelMax)
            let w = x[i] * x[i]
            sumLX += w * x[i] * Float(l)
            sumL2 += w * Float(l) * Float(l)
        }
        var scale: Float = sumL2 != 0 ? sumLX / sumL2 : 0
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            inverse = -(Float(levelMax) + 0.1 * Float(step)) / signedMax
            sumLX = 0
            sumL2 = 0
            for i in 0..<n {
                let l = level(x[i], inverse)
                let w = x[i] * x[i]
                sumLX += w * x[i] * Float(l)
                sumL2 += w * Float(l) * Float(l)
            }
            if sumL2 > 0 && sumLX * sumLX > best * sumL2 {
                for i in 0..<n { levels[i] = Int8(level(x[i], inverse) + levelMax) }
                scale = sumLX / sumL2
                best = scale * sumLX
            }
        }
        return scale
    }
}
