import Foundation
import SwiftTuneFuzzTargets
import Testing

/// Every saved fuzz input (`Tests/Fixtures/fuzz/<target>/`: crashes found and fixed, and cases written by hand)
/// replayed through its target: each must be refused with a typed error or accepted, never crash or fail untyped;
/// where `NAME.expected` exists, the refusal must contain each of its lines.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    /// The saved inputs of `target`, sorted by name.
    static func inputs(_ target: FuzzTarget) -> [URL] {
        let folder = root.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let inputs = names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") && !$0.hasSuffix(".expected") }
        return inputs.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func savedInputsAreRefusedWithTypedErrors(_ target: FuzzTarget) throws {
        for url in Self.inputs(target) {
            let bytes = try [UInt8](Data(contentsOf: url))
            let outcome = target.run(bytes)
            let name = "\(target.rawValue)/\(url.lastPathComponent)"
            if case let .unexpected(message) = outcome { Issue.record("\(name): \(message)") }
            let expected = url.appendingPathExtension("expected")
            guard let text = try? String(contentsOf: expected, encoding: .utf8) else { continue }
            guard case let .refused(message) = outcome else {
                Issue.record("\(name): expected a refusal (\(expected.lastPathComponent)), got \(outcome)")
                continue
            }
            for line in text.split(separator: "\n") where !line.isEmpty {
                #expect(message.contains(line), "\(name): the refusal lacks \"\(line)\": \(message)")
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
