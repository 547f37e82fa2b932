import Foundation
import SwiftTuneEngine

/// A model's `generation_config.json` as HF transformers reads it (absent keys take `GenerationConfig()`'s
/// defaults: `do_sample` false, temperature 1, top_k 50, top_p 1, repetition_penalty 1).
public struct GenerationDefaults: Sendable, Equatable {
    public var doSample = false
    public var temperature = 1.0
    public var topK = 50
    public var topP = 1.0
    public var minP: Double?
    public var repetitionPenalty = 1.0
    public var maxNewTokens: Int?
    /// `eos_token_id`: one id or a list; `generate` stops on any of them.
    public var eosTokenIDs: [Int32] = []

    public init() {}

    /// Reads `directory/generation_config.json`; a missing file gives the defaults.
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent("generation_config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw GenerationError.badRunFile(path: url.path, reason: "not a JSON object",
                                             hint: "fix or delete the file (HF's defaults apply without it)")
        }
        func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        doSample = (object["do_sample"] as? Bool) ?? false
        if let value = number("temperature") { temperature = value }
        if let value = number("top_k") { topK = Int(value) }
        if let value = number("top_p") { topP = value }
        minP = number("min_p")
        if let value = number("repetition_penalty") { repetitionPenalty = value }
        maxNewTokens = number("max_new_tokens").map { Int($0) }
        if let list = object["eos_token_id"] as? [NSNumber] {
            eosTokenIDs = list.map { Int32(truncating: $0) }
        } else if let single = object["eos_token_id"] as? NSNumber {
            eosTokenIDs = [Int32(truncating: single)]
        }
    }

    /// ms-swift's resolution of the sampling flags (its pt engine): a flag given wins; an unset temperature is the
    /// model's when it samples by default and 0 (greedy) otherwise; unset top_k, top_p, min_p and
    /// repetition_penalty come from the model's file (HF defaults when absent). Stops and log-probabilities are the
    /// caller's to add.
    public func config(applying flags: SamplingFlags) -> GenerationConfig {
        modelConfig.applying(flags)
    }

    /// What the model's file asks for when no flag is given (`GenerationConfig()`'s values for the rest).
    public var modelConfig: GenerationConfig {
        GenerationConfig(maxNewTokens: maxNewTokens, temperature: doSample ? temperature : 0, topK: topK, topP: topP,
                         minP: minP ?? 0, repetitionPenalty: repetitionPenalty)
    }
}
