import SwiftTuneTensor

/// `sample`: the shape checks every backend shares (`SampleShapes`), the offsets and every row's settings checked
/// against their domains, then `CPUKernels.sampleRow` per row, rows split over threads.
extension CPUBackend {
    public func sample(logits: Tensor, parameters: Tensor, historyIds: Tensor, historyStarts: Tensor,
                       answerStarts: Tensor, into tokens: Tensor, logprobs: Tensor?) throws {
        let op = "sample"
        let (rows, vocabulary) = try SampleShapes.check(
            logits: logits, parameters: parameters, historyIds: historyIds, historyStarts: historyStarts,
            answerStarts: answerStarts, tokens: tokens, logprobs: logprobs)
        let starts = try i32(historyStarts, "\(op) historyStarts"), answers = try i32(answerStarts, "\(op) answerStarts")
        guard starts[0] == 0, Int(starts[rows]) == historyIds.count,
              (0..<rows).allSatisfy({ starts[$0] <= starts[$0 + 1] }) else {
            throw TensorError.invalidArgument(op: "\(op) historyStarts",
                                              reason: "offsets must rise from 0 to H = \(historyIds.count), got "
                                                  + "\((0...rows).map { starts[$0] })")
        }
        for s in 0..<rows where !(starts[s]...starts[s + 1]).contains(answers[s]) {
            throw TensorError.invalidArgument(op: "\(op) answerStarts[\(s)]",
                                              reason: "\(answers[s]) is outside row \(s)'s history \(starts[s])...\(starts[s + 1])")
        }
        let settings = try raw(parameters).bindMemory(to: Double.self, capacity: parameters.count)
        for s in 0..<rows { try Self.checkSampleSettings(SampleSettings(settings + s * SamplingParameter.count), row: s) }
        let logitRows = SendablePointer(try f32(logits, "\(op) logits")), ids = SendablePointer(try i32(historyIds, "\(op) historyIds"))
        let settingRows = SendablePointer(settings), historyOffsets = SendablePointer(starts), answerOffsets = SendablePointer(answers)
        let chosen = SendablePointer(try i32(tokens, "\(op) tokens"))
        let logprobValues = try logprobs.map { SendablePointer(try raw($0).bindMemory(to: Double.self, capacity: $0.count)) }
        parallelFor(rows) { range in
            for s in range {
                let start = Int(historyOffsets[s]), answer = Int(answerOffsets[s]), end = Int(historyOffsets[s + 1])
                let (token, logprob) = CPUKernels.sampleRow(
                    logits: UnsafeBufferPointer(start: logitRows.pointer + s * vocabulary, count: vocabulary),
                    settings: SampleSettings(settingRows.pointer + s * SamplingParameter.count),
                    history: UnsafeBufferPointer(start: ids.pointer + start, count: end - start),
                    answer: UnsafeBufferPointer(start: ids.pointer + answer, count: end - answer),
                    wantsLogprob: logprobValues != nil)
                chosen[s] = token
                logprobValues?[s] = logprob
            }
        }
    }

    /// Throws unless every setting of row `row` is in its domain (`GenerationConfig.validate`'s).
    static func checkSampleSettings(_ settings: SampleSettings, row: Int) throws {
        func refuse(_ column: SamplingParameter, _ value: Double, _ expected: String) -> TensorError {
            .invalidArgument(op: "sample parameters[\(row), \(column)]", reason: "\(value): expected \(expected)")
        }
        let s = settings
        guard s.temperature.isFinite, s.temperature >= 0 else { throw refuse(.temperature, s.temperature, "a number ≥ 0") }
        guard s.topK >= 0 else { throw refuse(.topK, Double(s.topK), "a whole number ≥ 0") }
        guard s.topP > 0, s.topP <= 1 else { throw refuse(.topP, s.topP, "a number in (0, 1]") }
        guard s.minP >= 0, s.minP <= 1 else { throw refuse(.minP, s.minP, "a number in [0, 1]") }
        guard s.repetitionPenalty.isFinite, s.repetitionPenalty > 0 else {
            throw refuse(.repetitionPenalty, s.repetitionPenalty, "a number > 0")
        }
        guard s.presencePenalty.isFinite else { throw refuse(.presencePenalty, s.presencePenalty, "a finite number") }
        guard s.frequencyPenalty.isFinite else { throw refuse(.frequencyPenalty, s.frequencyPenalty, "a finite number") }
        guard s.uniform >= 0, s.uniform < 1 else { throw refuse(.uniform, s.uniform, "a number in [0, 1)") }
    }
}
