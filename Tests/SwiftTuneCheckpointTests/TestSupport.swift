import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
import Testing

/// A fresh directory under the system temp directory, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("swift-tune-ckpt-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Names in the directory, sorted (hidden temporary files included).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A safetensors file assembled by hand: `u64 LE length`, `header` (not padded unless the test pads it), `data`.
func rawSafetensors(header: String, data: [UInt8], length: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    let n = length ?? UInt64(json.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + json + data
}

/// Writes `bytes` to `name` in `directory` and returns its URL.
func writeFile(_ bytes: [UInt8], named name: String, in directory: TemporaryDirectory) throws -> URL {
    let url = directory.file(name)
    try Data(bytes).write(to: url)
    return url
}

/// The `CheckpointError` thrown by `body`, recording an issue if it throws something else or nothing.
func checkpointError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> CheckpointError? {
    do {
        try body()
        Issue.record("expected a CheckpointError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        return error
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Expects the error's message to contain every string in `parts` (file paths, keys).
func expectMessage(_ error: CheckpointError?, mentions parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let message = error?.description ?? ""
    for part in parts {
        #expect(message.contains(part), "message \"\(message)\" does not mention \"\(part)\"", sourceLocation: sourceLocation)
    }
}

/// A backend whose `download` always fails, to make writers fail half-way. Its tensors live in CPU memory.
final class FailingBackend: Backend, @unchecked Sendable {
    let name = "failing"
    private let cpu = CPUBackend(useBLAS: false, threadCount: 1)

    struct DownloadFailed: Error {}

    /// A tensor of this backend holding `values` (f32).
    func tensor(_ values: [Float], shape: [Int]) throws -> Tensor {
        let host = try cpu.tensor(values, shape: shape)
        return try Tensor(storage: host.storage, backend: self, shape: shape, dtype: .f32)
    }

    func allocate(shape: [Int], dtype: DType, zeroed: Bool) throws -> Tensor {
        let host = try cpu.allocate(shape: shape, dtype: dtype, zeroed: zeroed)
        return try Tensor(storage: host.storage, backend: self, shape: shape, dtype: dtype)
    }

    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) throws {}
    func download(_ tensor: Tensor, to bytes: UnsafeMutableRawBufferPointer) throws { throw DownloadFailed() }
    func copy(_ source: Tensor, to destination: Tensor) throws {}
    func fill(_ tensor: Tensor, with value: Float) throws {}
    func cast(_ source: Tensor, to destination: Tensor) throws {}
    func synchronize() throws {}
}
