import Foundation
import Testing
import SwiftTuneCheckpoint
@testable import SwiftTuneModels

/// HF transformers' inverse frequencies and attention scaling (scripts/golden/make_rope_goldens.py).
@Suite struct RotaryFrequenciesTests {
    struct Case: Decodable {
        let config: [String: JSONValue]
        let inv_freq: [Double]
        let attention_scaling: Double
    }

    /// Just enough JSON to re-encode the config object.
    enum JSONValue: Codable {
        case number(Double), string(String), object([String: JSONValue]), other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([String: JSONValue].self) { self = .object(value) }
            else { self = .other }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .number(value): try container.encode(value)
            case let .string(value): try container.encode(value)
            case let .object(value): try container.encode(value)
            case .other: try container.encodeNil()
            }
        }
    }

    @Test func matchesTransformersForEveryRopeType() throws {
        let data = try Data(contentsOf: goldenDirectory.appendingPathComponent("rope.json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        #expect(cases.count >= 5)
        for item in cases {
            let config = try DecoderConfig(json: JSONEncoder().encode(item.config), source: "rope.json")
            let rotary = try RotaryFrequencies(config: config)
            let label = "\(config.ropeScaling)"
            #expect(rotary.inverseFrequencies.count == item.inv_freq.count, "\(label)")
            for (i, (ours, theirs)) in zip(rotary.inverseFrequencies, item.inv_freq).enumerated() {
                #expect(abs(Double(ours) - theirs) <= 2e-6 * abs(theirs), "\(label) inv_freq[\(i)]: \(ours) vs \(theirs)")
            }
            #expect(abs(Double(rotary.attentionScaling) - item.attention_scaling) <= 1e-6, "\(label) scaling")
        }
    }

    @Test func dynamicScalingIsRefusedWithAHint() throws {
        var config = DecoderConfig(vocabSize: 16, hiddenSize: 8, intermediateSize: 8, numHiddenLayers: 1,
                                   numAttentionHeads: 2)
        config.ropeScaling = .dynamic(factor: 2)
        #expect(throws: ModelError.self) { try RotaryFrequencies(config: config) }
    }
}
