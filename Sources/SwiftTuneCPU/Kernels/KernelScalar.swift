#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A float type the CPU kernels are generic over: `Float` in the backend, `Double` in the gradient checks.
///
/// `BinaryFloatingPoint` has no transcendental functions, so this adds the four the kernels use.
protocol KernelScalar: BinaryFloatingPoint, Sendable {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
}

extension Float: KernelScalar {
    static func exp(_ x: Float) -> Float { expf(x) }
    static func log(_ x: Float) -> Float { logf(x) }
    static func cos(_ x: Float) -> Float { cosf(x) }
    static func sin(_ x: Float) -> Float { sinf(x) }
}

extension Double: KernelScalar {
    static func exp(_ x: Double) -> Double { libmExp(x) }
    static func log(_ x: Double) -> Double { libmLog(x) }
    static func cos(_ x: Double) -> Double { libmCos(x) }
    static func sin(_ x: Double) -> Double { libmSin(x) }
}

// Inside `extension Double` an unqualified `exp` would name the static member itself; these reach libm.
private func libmExp(_ x: Double) -> Double { exp(x) }
private func libmLog(_ x: Double) -> Double { log(x) }
private func libmCos(_ x: Double) -> Double { cos(x) }
private func libmSin(_ x: Double) -> Double { sin(x) }
