/// Errors from quantizing or dequantizing blocks: what, where (the operation and format), and why.
public enum QuantizationError: Error, CustomStringConvertible, Equatable {
    /// An argument the operation cannot take (a format it cannot write, rows that are not whole blocks, NaN input).
    case invalidArgument(operation: String, reason: String)
    /// A format the operation has no kernel for.
    case unsupportedFormat(operation: String, format: String, supported: [String])

    public var description: String {
        switch self {
        case let .invalidArgument(operation, reason):
            "\(operation): \(reason)"
        case let .unsupportedFormat(operation, format, supported):
            "\(operation): \(format) is not supported (supported: \(supported.joined(separator: ", ")))"
        }
    }
}
