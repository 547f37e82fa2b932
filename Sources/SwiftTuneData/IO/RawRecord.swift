import SwiftTuneChat

/// One record read from a dataset file before preprocessing: its place, and either its fields or why they
/// could not be read.
public struct RawRecord: Sendable {
    public var location: RowLocation
    public var fields: Result<[(key: String, value: JSONValue)], DataError>

    public init(location: RowLocation, fields: Result<[(key: String, value: JSONValue)], DataError>) {
        self.location = location
        self.fields = fields
    }
}
