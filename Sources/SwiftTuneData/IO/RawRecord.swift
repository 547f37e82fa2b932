import SwiftTuneJSON

/// One record read from a dataset file before preprocessing: its place, and either its fields or why they
/// could not be read.
public struct RawRecord: Sendable {
    public var location: RowLocation
    public var fields: Result<[JSONMember], DataError>

    public init(location: RowLocation, fields: Result<[JSONMember], DataError>) {
        self.location = location
        self.fields = fields
    }
}
