/// Elementwise tolerance of a comparison: an element passes when `|candidate − reference| ≤ absolute + relative·|reference|`.
public struct ComparisonTolerance: Sendable, Equatable, CustomStringConvertible {
    public var absolute: Float
    public var relative: Float

    public init(absolute: Float, relative: Float) {
        self.absolute = absolute
        self.relative = relative
    }

    /// Bit-exact (casts, copies, fills).
    public static let exact = ComparisonTolerance(absolute: 0, relative: 0)

    public var description: String {
        self == .exact ? "exact" : "\(format(absolute))+\(format(relative))·|ref|"
    }
}
