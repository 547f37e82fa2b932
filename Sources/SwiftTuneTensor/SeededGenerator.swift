/// A deterministic random number generator (SplitMix64): the same seed gives the same draws everywhere.
/// Every random draw in swift-tune takes one of these explicitly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1).
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal draw (Box–Muller).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniform(), 0x1p-60), u2 = nextUniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// `count` normal draws with the given standard deviation, as f32.
    public mutating func normals(_ count: Int, standardDeviation: Double = 1) -> [Float] {
        (0..<count).map { _ in Float(nextNormal() * standardDeviation) }
    }

    /// `count` uniform draws in [low, high), as f32.
    public mutating func uniforms(_ count: Int, in range: Range<Double>) -> [Float] {
        (0..<count).map { _ in Float(range.lowerBound + nextUniform() * (range.upperBound - range.lowerBound)) }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
