import SwiftTuneTensor

/// Picks the tokens of one engine step from its logits `[S, V]`: on the device with `Backend.sample` (only ids and
/// log-probabilities come back), except for requests that ask for top log-probabilities, whose rows are downloaded
/// and picked on the host by `TokenSampler` (it ranks the whole vocabulary).
///
/// The uniform number of each sampled row is drawn here from the request's own `SeededGenerator`, as
/// `TokenSampler` draws it, so a request gets the same tokens on either path, alone or batched.
enum StepSampler {
    /// The choice for each of `sequences` (row s of `logits` is sequence s's last new token); nil for a sequence
    /// still prefilling. Each sequence's cached length is already advanced past this step.
    static func choose(logits: Tensor, sequences: [GenerationSequence], backend: any Backend) throws -> [TokenChoice?] {
        var choices = [TokenChoice?](repeating: nil, count: sequences.count)
        var deviceRows: [Int] = []
        for (row, sequence) in sequences.enumerated() where sequence.samplesThisStep {
            let config = sequence.request.config
            if config.logprobs, config.topLogprobs > 0 {
                let values = try backend.floats(logits.rows(row..<(row + 1)))  // (V) on the host
                choices[row] = values.withUnsafeBufferPointer {
                    TokenSampler.choose($0, history: sequence.tokens, answerStart: sequence.promptCount, config: config,
                                        generator: &sequence.generator)
                }
            } else {
                deviceRows.append(row)
            }
        }
        guard !deviceRows.isEmpty else { return choices }
        let arguments = SampleArguments(sequences: sequences, rows: deviceRows)
        let wantsLogprobs = deviceRows.contains { sequences[$0].request.config.logprobs }
        let tokens = try backend.empty([sequences.count], dtype: .i32)
        let logprobs = wantsLogprobs ? try backend.empty([sequences.count], dtype: .f64) : nil
        try backend.sample(logits: logits, parameters: try arguments.parameterTensor(on: backend),
                           historyIds: try backend.tensor(arguments.historyIds, shape: [arguments.historyIds.count]),
                           historyStarts: try backend.tensor(arguments.historyStarts, shape: [sequences.count + 1]),
                           answerStarts: try backend.tensor(arguments.answerStarts, shape: [sequences.count]),
                           into: tokens, logprobs: logprobs)
        let ids = try backend.int32s(tokens)  // (S)
        let values = try logprobs.map { try backend.doubles($0) }  // (S)
        for row in deviceRows {
            let asked = sequences[row].request.config.logprobs
            choices[row] = TokenChoice(token: ids[row], logprob: asked ? values?[row] : nil)
        }
        return choices
    }
}
