import Foundation

/// A forward-mode dual number with two tangents: a value and its partial derivatives with respect to a preference
/// pair's chosen and rejected sequence log-probabilities. The losses are written once, as TRL writes them, and their
/// gradients follow (`d` = ∂/∂ log π(chosen), `r` = ∂/∂ log π(rejected)); tested against finite differences.
struct Dual {
    var value: Double
    var d: Double
    var r: Double

    init(_ value: Double, d: Double = 0, r: Double = 0) {
        self.value = value
        self.d = d
        self.r = r
    }

    static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, d: a.d + b.d, r: a.r + b.r) }
    static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, d: a.d - b.d, r: a.r - b.r) }
    static prefix func - (a: Dual) -> Dual { Dual(-a.value, d: -a.d, r: -a.r) }
    static func * (a: Dual, b: Dual) -> Dual {
        Dual(a.value * b.value, d: a.d * b.value + a.value * b.d, r: a.r * b.value + a.value * b.r)
    }
    static func * (a: Double, b: Dual) -> Dual { Dual(a * b.value, d: a * b.d, r: a * b.r) }
    static func + (a: Dual, b: Double) -> Dual { Dual(a.value + b, d: a.d, r: a.r) }
    static func - (a: Dual, b: Double) -> Dual { Dual(a.value - b, d: a.d, r: a.r) }
    static func - (a: Double, b: Dual) -> Dual { Dual(a - b.value, d: -b.d, r: -b.r) }
    static func / (a: Dual, b: Double) -> Dual { Dual(a.value / b, d: a.d / b, r: a.r / b) }

    /// Applies f with derivative f′ at the value.
    func map(_ f: Double, _ derivative: Double) -> Dual { Dual(f, d: derivative * d, r: derivative * r) }
}

enum DualMath {
    static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
    /// log σ(x) = −softplus(−x), computed without overflow.
    static func logSigmoid(_ x: Double) -> Double { min(x, 0) - log1p(Foundation.exp(-abs(x))) }

    static func sigmoid(_ x: Dual) -> Dual {
        let s = sigmoid(x.value)
        return x.map(s, s * (1 - s))
    }
    static func logSigmoid(_ x: Dual) -> Dual { x.map(logSigmoid(x.value), sigmoid(-x.value)) }
    static func exp(_ x: Dual) -> Dual {
        let e = Foundation.exp(x.value)
        return x.map(e, e)
    }
    static func relu(_ x: Dual) -> Dual { x.value > 0 ? x : Dual(0) }
    static func square(_ x: Dual) -> Dual { x * x }
    /// log(1 − eˣ) for x < 0 (ORPO's log-odds), PyTorch's stable split at −ln 2.
    static func log1mexp(_ x: Dual) -> Dual {
        let v = x.value
        let f = v > -M_LN2 ? log(-expm1(v)) : log1p(-Foundation.exp(v))
        return x.map(f, -Foundation.exp(v) / -expm1(v))
    }
}
