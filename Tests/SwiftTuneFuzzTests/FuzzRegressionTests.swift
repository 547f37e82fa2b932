import Foundation
import SwiftTuneFuzzTargets
import Testing

/// Every saved fuzz input (`Tests/Fixtures/fuzz/<target>/`: crashes found and fixed, and cases written by hand)
/// replayed through its target: each must be refused or accepted with a typed error, never crash or fail untyped.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    /// The saved inputs of `target`, sorted by name.
    static func inputs(_ target: FuzzTarget) -> [URL] {
        let folder = root.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func savedInputsAreRefusedWithTypedErrors(_ target: FuzzTarget) throws {
        for url in Self.inputs(target) {
            let bytes = try [UInt8](Data(contentsOf: url))
            let outcome = target.run(bytes)
            if case let .unexpected(message) = outcome {
                Issue.record("\(target.rawValue)/\(url.lastPathComponent): \(message)")
            }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func builtinSeedsRun(_ target: FuzzTarget) {
        for seed in target.builtinSeeds {
            if case let .unexpected(message) = target.run(seed.bytes) { Issue.record("\(seed.name): \(message)") }
        }
    }
}
