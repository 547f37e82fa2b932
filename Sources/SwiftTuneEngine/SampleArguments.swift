import SwiftTuneTensor

/// The host side of one `Backend.sample` call: every row's settings and history, laid out as the op reads them.
/// Rows that do not sample on the device (still prefilling, or picked on the host) get greedy settings and no
/// history; their results are not read.
struct SampleArguments {
    /// `[S, SamplingParameter.count]`
    var parameters: [Double]
    /// `[H]` every sampled row's prompt and answer so far, end to end.
    var historyIds: [Int32] = []
    /// `[S + 1]`
    var historyStarts: [Int32] = [0]
    /// `[S]` where each row's answer starts in `historyIds`.
    var answerStarts: [Int32] = []

    /// Draws the uniform number of each sampling row from its sequence's generator.
    init(sequences: [GenerationSequence], rows: [Int]) {
        let sampled = Set(rows)
        parameters = []
        parameters.reserveCapacity(sequences.count * SamplingParameter.count)
        for (row, sequence) in sequences.enumerated() {
            var settings = Self.greedy
            if sampled.contains(row) {
                let config = sequence.request.config
                settings[SamplingParameter.temperature.rawValue] = config.temperature
                settings[SamplingParameter.topK.rawValue] = Double(config.topK)
                settings[SamplingParameter.topP.rawValue] = config.topP
                settings[SamplingParameter.minP.rawValue] = config.minP
                settings[SamplingParameter.repetitionPenalty.rawValue] = config.repetitionPenalty
                settings[SamplingParameter.presencePenalty.rawValue] = config.presencePenalty
                settings[SamplingParameter.frequencyPenalty.rawValue] = config.frequencyPenalty
                if config.isSampling { settings[SamplingParameter.uniform.rawValue] = sequence.generator.nextUniform() }
                answerStarts.append(Int32(historyIds.count + sequence.promptCount))
                historyIds += sequence.tokens
            } else {
                answerStarts.append(Int32(historyIds.count))
            }
            parameters += settings
            historyStarts.append(Int32(historyIds.count))
        }
    }

    /// Greedy, every filter and penalty off.
    static let greedy: [Double] = SamplingParameter.allCases.map { column in
        switch column {
        case .topP, .repetitionPenalty: 1
        default: 0
        }
    }

    /// `parameters` as an f64 tensor `[S, SamplingParameter.count]`.
    func parameterTensor(on backend: any Backend) throws -> Tensor {
        try parameters.withUnsafeBytes {
            try backend.tensor(bytes: $0, shape: [parameters.count / SamplingParameter.count, SamplingParameter.count],
                               dtype: .f64)
        }
    }
}
