/// `∂f/∂x[i]` for every i by central differences `(f(x + h eᵢ) − f(x − h eᵢ)) / 2h` with `h = step`, in f64: the
/// reference an analytic backward pass is checked against.
///
/// - Parameters:
///   - x: the point, `[n]` f64.
///   - step: h; the default suits f64 functions of values near 1.
///   - f: the scalar function.
/// - Returns: the gradient, `[n]` f64.
public func numericalGradient(at x: [Double], step: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var probe = x
    return x.indices.map { i in
        probe[i] = x[i] + step
        let above = f(probe)
        probe[i] = x[i] - step
        let below = f(probe)
        probe[i] = x[i]
        return (above - below) / (2 * step)
    }
}
