// RMSNorm (Zhang & Sennrich 2019, https://arxiv.org/abs/1910.07467) and rotary position embeddings
// (Su et al. 2021, https://arxiv.org/abs/2104.09864) in Hugging Face's rotate-half layout.

// MARK: - RMSNorm

extension CPUKernels {
    /// `out[n] = x[n] · r[n] · weight` with `r[n] = 1 / sqrt(mean(x[n]²) + ε)`, for rows `n` in `rows`.
    ///
    /// x, out `[N, width]`, weight `[width]`; writes `r` into `inverseRMS` `[N]` when given. `out` may be `x`.
    static func rmsNorm<T: KernelScalar>(_ x: UnsafePointer<T>, weight: UnsafePointer<T>, epsilon: T, width: Int,
                                         into out: UnsafeMutablePointer<T>, inverseRMS: UnsafeMutablePointer<T>?,
                                         rows: Range<Int>) {
        for n in rows {
            let input = x + n * width, output = out + n * width
            var sumOfSquares: T = 0
            for d in 0..<width { sumOfSquares += input[d] * input[d] }
            let r = 1 / (sumOfSquares / T(width) + epsilon).squareRoot()
            for d in 0..<width { output[d] = input[d] * r * weight[d] }
            inverseRMS?[n] = r
        }
    }

    /// Input gradient of `rmsNorm` for rows in `rows`, overwriting `gradInput` `[N, width]`.
    ///
    /// With `g = gradOutput[n]`, `w = weight`, `r = inverseRMS[n]`:
    /// `dx = r · (g∘w − x · r² · Σ(g∘w∘x) / width)`. The row dot product is taken before any write, so
    /// `gradInput` may be `gradOutput` or `x`.
    static func rmsNormBackwardInput<T: KernelScalar>(_ x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                                      inverseRMS: UnsafePointer<T>, gradOutput: UnsafePointer<T>,
                                                      width: Int, into gradInput: UnsafeMutablePointer<T>,
                                                      rows: Range<Int>) {
        for n in rows {
            let input = x + n * width, grad = gradOutput + n * width, output = gradInput + n * width
            let r = inverseRMS[n]
            var dot: T = 0
            for d in 0..<width { dot += grad[d] * weight[d] * input[d] }
            let coefficient = dot * r * r / T(width)
            for d in 0..<width { output[d] = r * (grad[d] * weight[d] - input[d] * coefficient) }
        }
    }

    /// Weight gradient of `rmsNorm`: `gradWeight[c] += Σ_n gradOutput[n, c] · x[n, c] · inverseRMS[n]`
    /// for columns `c` in `columns`; x, gradOutput `[rows, width]`.
    static func rmsNormBackwardWeight<T: KernelScalar>(_ x: UnsafePointer<T>, inverseRMS: UnsafePointer<T>,
                                                       gradOutput: UnsafePointer<T>, rows: Int, width: Int,
                                                       into gradWeight: UnsafeMutablePointer<T>, columns: Range<Int>) {
        let strip = UnsafeMutablePointer<T>.allocate(capacity: columns.count)
        defer { strip.deallocate() }
        strip.initialize(repeating: 0, count: columns.count)
        for n in 0..<rows {
            let offset = n * width + columns.lowerBound
            let input = x + offset, grad = gradOutput + offset, r = inverseRMS[n]
            for c in 0..<columns.count { strip[c] += grad[c] * input[c] * r }
        }
        let target = gradWeight + columns.lowerBound
        for c in 0..<columns.count { target[c] += strip[c] }
    }
}

// MARK: - Rotary position embedding

extension CPUKernels {
    /// Rotates pairs `(i, i + headDim/2)` of every head of tokens in `tokens`.
    ///
    /// x, out `[N, heads, headDim]`, positions `[N]`, inverseFrequencies `[headDim/2]`. With
    /// `θ = positions[n] · inverseFrequencies[i]`, `c = attentionScaling · cos θ`, `s = attentionScaling · sin θ`:
    /// forward `(x₁, x₂) → (x₁c − x₂s, x₂c + x₁s)`; `inverse` applies the transpose `(x₁c + x₂s, x₂c − x₁s)`,
    /// which is the backward pass (and the inverse when `attentionScaling` is 1). `out` may be `x`.
    static func rope<T: KernelScalar>(_ x: UnsafePointer<T>, positions: UnsafePointer<Int32>,
                                      inverseFrequencies: UnsafePointer<T>, attentionScaling: T, inverse: Bool,
                                      heads: Int, headDim: Int, into out: UnsafeMutablePointer<T>, tokens: Range<Int>) {
        let half = headDim / 2
        let cosines = UnsafeMutablePointer<T>.allocate(capacity: max(half, 1))
        let sines = UnsafeMutablePointer<T>.allocate(capacity: max(half, 1))
        defer { cosines.deallocate(); sines.deallocate() }
        let sign: T = inverse ? -1 : 1
        for n in tokens {
            // The angle is a product in T, as in HF (`inv_freq @ position_ids` in f32), then cos/sin.
            let position = T(positions[n])
            for i in 0..<half {
                let angle = position * inverseFrequencies[i]
                cosines[i] = attentionScaling * T.cos(angle)
                sines[i] = sign * attentionScaling * T.sin(angle)
            }
            for h in 0..<heads {
                let base = (n * heads + h) * headDim
                let input = x + base, output = out + base
                for i in 0..<half {
                    let x1 = input[i], x2 = input[i + half]
                    output[i] = x1 * cosines[i] - x2 * sines[i]
                    output[i + half] = x2 * cosines[i] + x1 * sines[i]
                }
            }
        }
    }
}
