import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneTensor
@testable import SwiftTuneEngine

/// The CPU `sample` op (the reference every backend is compared with) against the engine's host sampler
/// (`TokenSampler`): the same token and log-probability, bit for bit, for every row of random batches.
@Suite("Backend.sample (CPU) vs TokenSampler")
struct SampleOpTests {
    /// One row: logits, history, where the answer starts, settings, and the seed of its generator.
    struct Row {
        var logits: [Float]
        var history: [Int32]
        var answerStart: Int
        var config: GenerationConfig
        var seed: UInt64
    }

    /// Runs `rows` through one `sample` call; returns each row's token and log-probability.
    static func sampleOp(_ rows: [Row], backend: CPUBackend) throws -> [(Int32, Double)] {
        let vocabulary = rows[0].logits.count
        var parameters: [Double] = [], ids: [Int32] = [], starts: [Int32] = [0], answers: [Int32] = []
        for row in rows {
            var generator = SeededGenerator(seed: row.seed)
            let c = row.config
            parameters += [c.temperature, Double(c.topK), c.topP, c.minP, c.repetitionPenalty, c.presencePenalty,
                           c.frequencyPenalty, c.isSampling ? generator.nextUniform() : 0]
            answers.append(Int32(ids.count + row.answerStart))
            ids += row.history
            starts.append(Int32(ids.count))
        }
        let tokens = try backend.empty([rows.count], dtype: .i32), logprobs = try backend.empty([rows.count], dtype: .f64)
        try backend.sample(
            logits: try backend.tensor(rows.flatMap(\.logits), shape: [rows.count, vocabulary]),
            parameters: try parameters.withUnsafeBytes {
                try backend.tensor(bytes: $0, shape: [rows.count, SamplingParameter.count], dtype: .f64)
            },
            historyIds: try backend.tensor(ids, shape: [ids.count]),
            historyStarts: try backend.tensor(starts, shape: [starts.count]),
            answerStarts: try backend.tensor(answers, shape: [answers.count]), into: tokens, logprobs: logprobs)
        return Array(zip(try backend.int32s(tokens), try backend.doubles(logprobs)))
    }

    /// `TokenSampler`'s pick for `row`, with the log-probability.
    static func hostPick(_ row: Row) -> TokenChoice {
        var generator = SeededGenerator(seed: row.seed)
        var config = row.config
        config.logprobs = true
        return row.logits.withUnsafeBufferPointer {
            TokenSampler.choose($0, history: row.history, answerStart: row.answerStart, config: config, generator: &generator)
        }
    }

    static func expectSame(_ rows: [Row], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let picks = try sampleOp(rows, backend: CPUBackend(threadCount: 2))
        for (index, (row, pick)) in zip(rows, picks).enumerated() {
            let expected = hostPick(row)
            let sameLogprob = pick.1 == expected.logprob || (pick.1.isNaN && expected.logprob?.isNaN == true)  // all −∞
            #expect(pick.0 == expected.token && sameLogprob,
                    "row \(index): op \(pick), host \(expected.token) \(String(describing: expected.logprob)); \(row.config)",
                    sourceLocation: sourceLocation)
        }
    }

    /// Random logits (many ties: values on a grid of 0.5, some −∞), histories with repeats and out-of-vocabulary
    /// ids, and every setting, 1,500 rows in batches of 6.
    @Test func randomRowsPickWhatTheHostPicks() throws {
        var random = SeededGenerator(seed: 2026)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        for vocabulary in [1, 2, 7, 64, 301] {
            for _ in 0..<50 {
                var rows: [Row] = []
                for _ in 0..<6 {
                    let scale = pick([0.5, 2, 8] as [Float])
                    var logits = (0..<vocabulary).map { _ in (Float(random.nextNormal()) * scale * 2).rounded() / 2 }
                    for i in logits.indices where random.next() % 9 == 0 { logits[i] = -.infinity }
                    let length = Int(random.next() % 12)
                    let history = (0..<length).map { _ in Int32(Int(random.next() % UInt64(vocabulary + 2)) - 1) }
                    var config = GenerationConfig(
                        temperature: pick([0, 0.3, 1, 1.7]), topK: pick([0, 1, 2, 5, vocabulary + 3]),
                        topP: pick([1, 0.05, 0.5, 0.9, 0.999]), minP: pick([0, 0.05, 0.3]),
                        repetitionPenalty: pick([1, 1.3, 0.8]))
                    config.presencePenalty = pick([0, 0.5, -1])
                    config.frequencyPenalty = pick([0, 0.25, 1.5])
                    rows.append(Row(logits: logits, history: history, answerStart: Int(random.next() % UInt64(length + 1)),
                                    config: config, seed: random.next()))
                }
                try Self.expectSame(rows)
            }
        }
    }

    /// Top-p where a cumulative probability lands exactly on 1 − top_p (kept only above it), ties ordered by id,
    /// min-p at its boundary, a row with no candidate left (every score −∞) and one whose draw is near 1.
    @Test func edgeCases() throws {
        let even: [Float] = [1, 1, 1, 1]
        var rows: [Row] = []
        for (topP, seed) in [(0.5, 1), (0.75, 2), (0.25, 3), (1e-9, 4)] as [(Double, UInt64)] {
            rows.append(Row(logits: even, history: [], answerStart: 0, config: GenerationConfig(temperature: 1, topP: topP),
                            seed: seed))
        }
        let halves: [Float] = [Float(log(0.5)), Float(log(0.25)), Float(log(0.25))]
        rows.append(Row(logits: halves, history: [], answerStart: 0, config: GenerationConfig(temperature: 1, minP: 0.5), seed: 5))
        rows.append(Row(logits: halves, history: [], answerStart: 0, config: GenerationConfig(temperature: 1, topK: 2), seed: 6))
        rows.append(Row(logits: [-.infinity, -.infinity, -.infinity], history: [1], answerStart: 0,
                        config: GenerationConfig(temperature: 0.7), seed: 7))
        rows.append(Row(logits: [0, 0, 3], history: [2, 2, 2], answerStart: 1,
                        config: { var c = GenerationConfig(); c.frequencyPenalty = 1.5; return c }(), seed: 8))
        for row in rows { try Self.expectSame([row]) }
        try Self.expectSame(Array(rows.prefix(4)))  // the even rows batched
        // A draw near 1 takes the last candidate.
        var seed: UInt64 = 0
        while true {
            var generator = SeededGenerator(seed: seed)
            if generator.nextUniform() > 0.999 { break }
            seed += 1
        }
        try Self.expectSame([Row(logits: [2, 1, 0, -1], history: [], answerStart: 0, config: GenerationConfig(temperature: 1),
                                 seed: seed)])
    }

    @Test func badArgumentsNameTheirPlace() throws {
        let backend = CPUBackend(threadCount: 1)
        let logits = try backend.tensor([0, 1, 2] as [Float], shape: [1, 3])
        func run(_ parameters: [Double], starts: [Int32] = [0, 1], answers: [Int32] = [0]) throws {
            try backend.sample(
                logits: logits,
                parameters: try parameters.withUnsafeBytes { try backend.tensor(bytes: $0, shape: [1, 8], dtype: .f64) },
                historyIds: try backend.tensor([1] as [Int32], shape: [1]),
                historyStarts: try backend.tensor(starts, shape: [2]), answerStarts: try backend.tensor(answers, shape: [1]),
                into: try backend.empty([1], dtype: .i32), logprobs: nil)
        }
        try run([1, 0, 1, 0, 1, 0, 0, 0.5])
        for (parameters, column) in [([1, 0, 0, 0, 1, 0, 0, 0.5], "topP"), ([1, 2.5, 1, 0, 1, 0, 0, 0.5], "topK"),
                                     ([-1, 0, 1, 0, 1, 0, 0, 0.5], "temperature"), ([1, 0, 1, 0, 1, 0, 0, 1], "uniform")]
            as [([Double], String)] {
            #expect(throws: TensorError.self, "\(column)") { try run(parameters) }
            do { try run(parameters) } catch { #expect("\(error)".contains("[0, \(column)]"), "\(error)") }
        }
        #expect(throws: TensorError.self) { try run([1, 0, 1, 0, 1, 0, 0, 0.5], starts: [0, 2]) }
        #expect(throws: TensorError.self) { try run([1, 0, 1, 0, 1, 0, 0, 0.5], answers: [2]) }
        #expect(throws: TensorError.self) {
            try backend.sample(logits: logits, parameters: try backend.zeros([1, 7], dtype: .f64),
                               historyIds: try backend.zeros([0], dtype: .i32), historyStarts: try backend.zeros([2], dtype: .i32),
                               answerStarts: try backend.zeros([1], dtype: .i32), into: try backend.empty([1], dtype: .i32),
                               logprobs: nil)
        }
    }
}
