import Foundation
import Testing
@testable import SwiftTuneHub

/// A temporary HOME with empty HF and ModelScope caches, removed afterwards.
struct HubTestFolder {
    let root: URL
    var hfCache: URL { root.appendingPathComponent("hf/hub") }
    var msCache: URL { root.appendingPathComponent("ms") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// Options whose caches are in this folder and whose hubs are `endpoint` (a closed port when nil), with
    /// short retry waits. The read timeout stays long: tests run in parallel with CPU-bound ones, and a
    /// starved client must not time out and retry (the tests count requests).
    func options(endpoint: String? = nil, useHF: Bool = true) -> HubOptions {
        var options = HubOptions(environment: [
            "HOME": root.path, "HF_HOME": root.appendingPathComponent("hf").path, "MODELSCOPE_CACHE": msCache.path,
        ])
        options.hfEndpoint = endpoint ?? "http://127.0.0.1:9"
        options.modelScopeEndpoint = endpoint ?? "http://127.0.0.1:9"
        options.useHF = useHF
        options.retryDelay = .milliseconds(10)
        options.connectTimeout = .seconds(2)
        options.readTimeout = .seconds(60)
        return options
    }
}

/// Runs `body` with a fake hub and a temporary cache folder; both are stopped and removed whatever happens.
func withFakeHub(repos: [HubFakeRepo] = [.model(), .dataset()],
                 _ body: (HubFakeServer, HubTestFolder) async throws -> Void) async throws {
    let folder = try HubTestFolder()
    let server = try await HubFakeServer.start(repos: repos)
    do {
        try await body(server, folder)
    } catch {
        await server.stop()
        folder.remove()
        throw error
    }
    await server.stop()
    folder.remove()
}

/// The error `body` throws, as a ``HubError`` (a test failure if it throws nothing or something else).
func hubError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> HubError? {
    do {
        try await body()
        Issue.record("expected a HubError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as HubError {
        return error
    } catch {
        Issue.record("expected a HubError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Collects progress reports from concurrent downloads.
final class HubProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [HubProgress] = []
    func record(_ event: HubProgress) { lock.withLock { events.append(event) } }
    var all: [HubProgress] { lock.withLock { events } }
}

func symlinkTarget(_ url: URL) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: url.path) }

/// Checks a download that the fake hub cut at half of `size` bytes: the retry asked for `Range: bytes=R-` where
/// R is what the client had kept, and the server sent each byte after R once more. Returns the bytes re-sent
/// (those the client lost with the dropped connection: 0 ≤ re-sent < half).
@discardableResult
func expectResumed(_ server: HubFakeServer, file: String, size: Int, port: Int? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) -> Int {
    let requests = server.fileRequests(file).filter { port == nil || $0.port == port }
    #expect(requests.count == 2, "two downloads of \(file)", sourceLocation: sourceLocation)
    #expect(requests.first?.headers["range"] == nil, sourceLocation: sourceLocation)
    guard let range = requests.last?.headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
          let resumedAt = Int(range.dropFirst(6).dropLast()) else {
        Issue.record("the second download of \(file) has no Range: bytes=N-", sourceLocation: sourceLocation)
        return -1
    }
    let cut = size / 2
    #expect(resumedAt > 0 && resumedAt <= cut, "resumed at \(resumedAt) of \(cut) received", sourceLocation: sourceLocation)
    // first response: `cut` bytes; second: everything from `resumedAt`
    #expect(server.bodyBytesSent(file) == cut + (size - resumedAt), sourceLocation: sourceLocation)
    return cut - resumedAt
}
