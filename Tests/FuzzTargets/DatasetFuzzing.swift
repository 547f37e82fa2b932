import Foundation
import SwiftTuneData

/// The `dataset` target: the first byte picks the format (0: `.jsonl`, 1: a `.json` array or lines, 2: `.csv`), the
/// rest is written to a temporary file and read as `--dataset` reads it, each record through the row preprocessor.
/// A bad row is refused on its own (the loader skips and counts it); reading must never stop with an untyped error.
enum DatasetFuzzing {
    static let extensions = ["jsonl", "json", "csv"]
    static let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("swift-tune-fuzz-\(ProcessInfo.processInfo.processIdentifier)")

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard let selector = bytes.first else { return .accepted }
        let ext = extensions[Int(selector) % extensions.count]
        let file = folder.appendingPathComponent("rows.\(ext)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(bytes.dropFirst()).write(to: file)
        } catch {
            return .unexpected("cannot write the temporary dataset file \(file.path): \(error)")
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let preprocessor = RowPreprocessor()
        var refusals: [String] = []
        return FuzzErrors.run {
            try DatasetFileReader(maxLineBytes: 1 << 16).forEachRecord(at: file.path) { (record: RawRecord) throws(DataError) in
                do {
                    _ = try preprocessor.convert(try record.fields.get(), at: record.location)
                } catch {
                    refusals.append("\(error)")
                }
            }
            return refusals.isEmpty ? .accepted : .refused(refusals.joined(separator: "; "))
        }
    }
}
