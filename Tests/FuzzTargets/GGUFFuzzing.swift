import Foundation
import SwiftTuneCheckpoint
import SwiftTuneHub
import SwiftTuneTokenizers

/// The `gguf` target: the bytes as a GGUF file, opened as `infer` opens one.
enum GGUFFuzzing {
    static let url = URL(fileURLWithPath: "/fuzz/input.gguf")

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        FuzzErrors.run {
            let file = try GGUFFile(contents: bytes, url: url)
            var refusals: [String] = []
            for info in file.tensors {
                guard info.type.isDequantizable else { continue }
                let values = try file.floats(info.name)
                guard values.count == info.elementCount else {
                    return .unexpected("tensor \(info.name): \(values.count) values for \(info.dimensions)")
                }
            }
            // What the loader reads next: the config and the tokenizer, each refused on its own.
            for step in [{ _ = try DecoderConfig(gguf: file) }, {
                let tokenizer = try Tokenizer(gguf: file)
                _ = tokenizer.decode(tokenizer.encode("Hello, wörld! <|im_start|> 123", addSpecialTokens: true),
                                     skipSpecialTokens: false)
            }] as [() throws -> Void] {
                do { try step() } catch {
                    let outcome = FuzzErrors.outcome(error)
                    guard case let .refused(message) = outcome else { return outcome }
                    refusals.append(message)
                }
            }
            return refusals.isEmpty ? .accepted : .refused(refusals.joined(separator: "; "))
        }
    }
}
