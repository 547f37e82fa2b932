import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneCPU
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneTensor
@testable import SwiftTuneTraining

/// The advantage estimators against their definitions, written out the long way.
@Suite struct GRPOAdvantageEstimatorTests {
    static let rewards: [Double] = [0.3, 1.2, -0.4, 0.9, 2.0, 2.0, 0.5, 1.0]

    static func std(_ v: [Double]) -> Double {
        let m = v.reduce(0, +) / Double(v.count)
        return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    }

    @Test func rlooSubtractsTheMeanOfTheOtherCompletions() {
        for scaling in RewardScaling.allCases {
            let result = GRPOLoss.advantages(rewards: Self.rewards, groupSize: 4, scaling: scaling, estimator: .rloo)
            for g in 0..<2 {
                let group = Array(Self.rewards[(4 * g)..<(4 * g + 4)])
                for j in 0..<4 {
                    let others = group.enumerated().filter { $0.offset != j }.map(\.element)
                    let centred = group[j] - others.reduce(0, +) / 3
                    let divisor: Double
                    switch scaling {
                    case .group: divisor = Self.std(group) + 1e-4
                    case .batch: divisor = Self.std(Self.rewards) + 1e-4
                    case .none: divisor = 1
                    }
                    #expect(abs(result.advantages[4 * g + j] - centred / divisor) < 1e-12, "\(scaling) \(g) \(j)")
                }
            }
        }
    }

    @Test func reinforcePlusPlusDividesByTheStdOfTheCentredRewards() {
        let batch = GRPOLoss.advantages(rewards: Self.rewards, groupSize: 4, scaling: .batch, estimator: .reinforcePlusPlus)
        var centred: [Double] = []
        for g in 0..<2 {
            let group = Array(Self.rewards[(4 * g)..<(4 * g + 4)])
            let mean = group.reduce(0, +) / 4
            centred += group.map { $0 - mean }
        }
        let s = Self.std(centred)
        for (a, c) in zip(batch.advantages, centred) { #expect(abs(a - c / (s + 1e-4)) < 1e-12) }
        // That std differs from the rewards' (grpo's batch scaling): the two estimators differ.
        let grpo = GRPOLoss.advantages(rewards: Self.rewards, groupSize: 4, scaling: .batch, estimator: .grpo)
        #expect(abs(grpo.advantages[0] - batch.advantages[0]) > 1e-3)
        // Per group, the centred rewards' std is the rewards' own: reinforce++ equals grpo.
        let groupPP = GRPOLoss.advantages(rewards: Self.rewards, groupSize: 4, scaling: .group, estimator: .reinforcePlusPlus)
        let groupGRPO = GRPOLoss.advantages(rewards: Self.rewards, groupSize: 4, scaling: .group)
        for (a, b) in zip(groupPP.advantages, groupGRPO.advantages) { #expect(abs(a - b) < 1e-9) }
        // The group whose rewards are all 2.0, 2.0, 0.5, 1.0 is not zero-std; none is here.
        #expect(batch.fracRewardZeroStd == 0)
    }

    @Test func oneGenerationIsRefusedNamingTheEstimator() {
        for estimator in AdvantageEstimator.allCases {
            var options = GRPOOptions()
            options.numGenerations = 1
            options.advantageEstimator = estimator
            #expect { try options.validate(rewardCount: 1) } throws: { error in
                "\(error)".contains("num_generations") && "\(error)".contains(estimator.rawValue)
            }
        }
        var options = GRPOOptions()
        #expect(!options.resolvedKLInReward)
        options.advantageEstimator = .rloo
        #expect(options.resolvedKLInReward, "ms-swift's default for rloo")
        options.klInReward = false
        #expect(!options.resolvedKLInReward)
        options.klInReward = true
        options.loss.beta = 0
        #expect(!options.resolvedKLInReward, "β 0 has no KL anywhere")
    }
}

/// The entropy metric against the full logits of the same sequences.
@Suite struct GRPOEntropyTests {
    @Test func entropyIsTheMeanSoftmaxEntropyOfTheCompletionTokens() throws {
        let golden = GRPOGolden()
        let rows = try GRPOGolden.rows()
        let model = try golden.model()
        var completions: [GRPOCompletion] = []
        for (p, group) in rows.completions.enumerated() {
            for ids in group { completions.append(GRPOCompletion(promptIDs: rows.prompts[p], completionIDs: ids, advantage: 0.5)) }
        }
        completions[2].inLoss = false  // an overlong-filtered completion counts for nothing
        var options = GRPOLossOptions()
        options.beta = 0
        let result = try GRPOPolicyStep.accumulate(model: model, completions: completions, options: options,
                                                   temperature: rows.temperature)
        let entropy = try #require(result.metrics.first { $0.key == "entropy" }?.value)
        // The slow reference: every position's logits, / T, softmax, −Σ p log p, over the completion tokens in the loss.
        var sum = 0.0, count = 0
        for c in completions where c.inLoss {
            let ids = c.promptIDs + c.completionIDs
            let batch = try TokenBatch(sequences: [ids])
            let logits = try golden.backend.floats(model.logits(batch.upload(to: golden.backend)))
            let vocab = model.config.vocabSize
            #expect(logits.count == ids.count * vocab)
            // Completion token k is predicted at position prompt + k − 1.
            for position in (c.promptIDs.count - 1)..<(ids.count - 1) {
                let z = logits[(position * vocab)..<((position + 1) * vocab)].map { Double($0) / rows.temperature }
                let top = z.max() ?? 0
                let logSum = top + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - top) })
                sum += -z.reduce(0) { h, x in let logp = x - logSum; return h + Foundation.exp(logp) * logp }
                count += 1
            }
        }
        let reference = sum / Double(count)
        print("grpo entropy: \(entropy) vs reference \(reference) over \(count) tokens")
        #expect(abs(entropy - reference) <= 1e-4 * max(1, reference), "entropy \(entropy), reference \(reference)")
        #expect(entropy > 0.1, "a real distribution has entropy: \(entropy)")
        // Chunks of 5 positions: the completion runs straddle chunk boundaries; the same number.
        let chunked = try golden.model()
        chunked.lossChunkSize = 5
        let again = try GRPOPolicyStep.accumulate(model: chunked, completions: completions, options: options,
                                                  temperature: rows.temperature)
        let chunkedEntropy = try #require(again.metrics.first { $0.key == "entropy" }?.value)
        #expect(abs(chunkedEntropy - entropy) <= 1e-5, "chunked \(chunkedEntropy), whole \(entropy)")
    }
}

/// A one-route HTTP server on an ephemeral port (127.0.0.1:0): each request's body goes to `handler`, whose status
/// and body are the answer.
final class TinyHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let socket: Int32
    private let handler: @Sendable (Data) -> (Int, String)
    private let lock = NSLock()
    private var bodies: [Data] = []

    init(_ handler: @escaping @Sendable (Data) -> (Int, String)) throws {
        self.handler = handler
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw TrainingError.invalidArgument(flag: "test", value: "bind", expected: "a port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/reward")! }
    var requests: [Data] { lock.withLock { bodies } }

    func close() { shutdown(socket, Int32(SHUT_RDWR)); Glibc.close(socket) }

    private func serve() {
        while true {
            let client = accept(socket, nil, nil)
            guard client >= 0 else { return }
            var data = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            var body: Data?
            while body == nil {
                let n = recv(client, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                data.append(contentsOf: buffer[0..<n])
                if let end = data.range(of: Data("\r\n\r\n".utf8)) {
                    let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if data.count - end.upperBound >= length { body = data[end.upperBound..<(end.upperBound + length)] }
                }
            }
            let received = body ?? Data()
            lock.withLock { bodies.append(received) }
            let (status, text) = handler(received)
            let response = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(text.utf8.count)\r\n"
                + "Connection: close\r\n\r\n" + text
            _ = response.withCString { send(client, $0, strlen($0), 0) }
            Glibc.close(client)
        }
    }
}

/// The newer GRPO options end to end on the tiny qwen2.
@Suite(.serialized) struct GRPOFeatureTests {
    static func run(_ folder: URL, rewards: [String] = ["soft_overlong"], steps: Int = 3,
                    edit: (inout GRPORunOptions) -> Void = { _ in }) throws -> (URL, [[String: Any]], [[String: Any]]) {
        var options = GRPOTests.options(output: folder.appendingPathComponent("runs-\(UUID().uuidString)"),
                                        data: try GRPOTests.dataset(in: folder), rewards: rewards, steps: steps)
        edit(&options)
        let result = try GRPO.run(options, backend: CPUBackend(threadCount: 2))
        let records = try GRPOTests.lines(result.runFolder.appendingPathComponent("logging.jsonl")).dropLast()
        let completions = try GRPOTests.lines(result.runFolder.appendingPathComponent("completions.jsonl"))
        return (result.runFolder, Array(records), completions)
    }

    /// rloo without the KL: each logged advantage is the leave-one-out advantage of its group's logged rewards.
    @Test func rlooAdvantagesComeFromTheLoggedRewards() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (run, records, completions) = try Self.run(folder, rewards: ["soft_overlong", "repetition"], steps: 2) {
            $0.grpo.advantageEstimator = .rloo
            $0.grpo.loss.beta = 0
            $0.grpo.scaleRewards = .none
        }
        #expect(completions.count == 16)
        for g in 0..<4 {
            let group = Array(completions[(4 * g)..<(4 * g + 4)])
            let totals = group.map { ($0["soft_overlong"] as? Double ?? .nan) + ($0["repetition"] as? Double ?? .nan) }
            for j in 0..<4 {
                let others = totals.enumerated().filter { $0.offset != j }.map(\.element)
                let expected = totals[j] - others.reduce(0, +) / 3
                let logged = try #require(group[j]["advantage"] as? Double)
                #expect(abs(logged - expected) < 1e-9, "group \(g) completion \(j): \(logged) vs \(expected)")
            }
        }
        #expect(records.allSatisfy { ($0["entropy"] as? Double)?.isFinite == true && ($0["entropy"] as? Double ?? 0) > 0 })
        let arguments = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any]
        #expect(arguments?["advantage_estimator"] as? String == "rloo" && arguments?["kl_in_reward"] as? Bool == false)
    }

    /// reinforce++ with β > 0: the KL moves into the reward (ms-swift's default), and is logged.
    @Test func reinforcePlusPlusPutsTheKLInTheReward() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (run, records, completions) = try Self.run(folder, steps: 3) {
            $0.grpo.advantageEstimator = .reinforcePlusPlus
            $0.grpo.scaleRewards = .batch
            $0.grpo.loss.beta = 0.04
        }
        #expect(records.count == 3 && completions.count == 24)
        for record in records {
            #expect((record["kl"] as? Double)?.isFinite == true, "\(record)")
            #expect((record["loss"] as? Double)?.isFinite == true)
        }
        // The adapter starts as the base (B = 0): no KL at the first step, some once it has moved.
        #expect(abs(records[0]["kl"] as? Double ?? 1) < 1e-6)
        #expect((records[2]["kl"] as? Double ?? 0) != 0)
        let arguments = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any]
        #expect(arguments?["kl_in_reward"] as? Bool == true)
    }

    /// steps_per_generation 2 with one micro-batch per step: one generation batch of 4 prompts serves two optimizer
    /// steps, the second on the other half against the kept sampling log-probabilities.
    @Test func stepsPerGenerationServesSeveralOptimizerSteps() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, records, completions) = try Self.run(folder, steps: 4) {
            $0.grpo.stepsPerGeneration = 2
            $0.training.training.learningRate = 5e-2
        }
        #expect(Set(completions.compactMap { $0["step"] as? Int }) == [1, 3], "generation at steps 1 and 3 only")
        let first = completions.filter { $0["step"] as? Int == 1 }
        #expect(first.count == 16, "4 prompts × 4 completions")
        #expect(Set(first.compactMap { $0["prompt"] as? String }).count == 4, "every prompt once per epoch")
        #expect(records.count == 4)
        for (i, record) in records.enumerated() where i % 2 == 1 {
            #expect(record["time/generate"] as? Double == 0, "step \(i + 1) trains on the buffered batch")
            #expect(record["reward"] as? Double == records[i - 1]["reward"] as? Double)
        }
        // The second step's ratio is against the sampling policy, which the first step moved.
        #expect(records.allSatisfy { ($0["loss"] as? Double)?.isFinite == true })
        // Not a multiple of the accumulation: refused before anything runs.
        #expect {
            _ = try Self.run(folder, steps: 1) {
                $0.grpo.stepsPerGeneration = 3
                $0.training.training.gradientAccumulationSteps = 2
            }
        } throws: { "\($0)".contains("steps_per_generation") && "\($0)".contains("multiple") }
    }

    /// --reward_url: the server gets every completion as JSON and its numbers are the rewards; garbage stops the run
    /// naming the row and the answer.
    @Test func aRewardURLScoresTheBatchAndGarbageStopsTheRun() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The reward: each completion's token count × 0.5, read back from the posted JSON.
        let server = try TinyHTTPServer { body in
            guard let list = try? JSONSerialization.jsonObject(with: body) as? [[String: Any]] else { return (400, "bad") }
            let values = list.map { ($0["completion_tokens"] as? Int ?? -1) * 5 }
            return (200, "[" + values.map { "\(Double($0) / 10)" }.joined(separator: ", ") + "]")
        }
        defer { server.close() }
        let (_, records, completions) = try Self.run(folder, rewards: [], steps: 2) {
            $0.rewardURL = server.url
            $0.grpo.loss.beta = 0
        }
        #expect(server.requests.count == 2, "one POST per generation batch")
        let posted = try #require(try JSONSerialization.jsonObject(with: server.requests[0]) as? [[String: Any]])
        #expect(posted.count == 8 && posted[0]["solution"] as? String != nil && posted[0]["prompt"] as? String != nil)
        for line in completions {
            let tokens = try #require(line["completion_tokens"] as? Int)
            #expect(line["reward_url"] as? Double == Double(tokens) / 2, "\(line)")
        }
        #expect((records.first?["rewards/reward_url/mean"] as? Double)?.isFinite == true)

        for (status, answer, needles) in [(200, #"[1, 2, "x"]"#, ["3 values for 8 completions", "math.jsonl:"]),
                                          (200, #"[1, 2, 3, 4, 5, 6, 7, null]"#, ["answered null", "math.jsonl:"]),
                                          (500, "boom", ["HTTP 500", "boom"])] {
            let bad = try TinyHTTPServer { _ in (status, answer) }
            defer { bad.close() }
            #expect {
                _ = try Self.run(folder, rewards: [], steps: 1) { $0.rewardURL = bad.url }
            } throws: { error in
                needles.allSatisfy { "\(error)".contains($0) } && "\(error)".contains("reward_url")
            }
        }
    }

    /// --reward_model: an rm checkpoint of the tiny model scores each completion as the row's conversation answered.
    @Test func aRewardModelScoresPromptAndCompletion() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var rm = try RLHFTests.options(.rm, output: folder.appendingPathComponent("rm"), data: RLHFTests.dataset(in: folder))
        rm.training.training.maxSteps = 2
        rm.training.training.saveSteps = 2
        let checkpoint = try RLHF.run(rm, backend: CPUBackend(threadCount: 2)).runFolder.appendingPathComponent("checkpoint-2")
        let (run, records, completions) = try Self.run(folder, rewards: ["format"], steps: 1) {
            $0.rewardModel = checkpoint
            $0.grpo.loss.beta = 0
        }
        #expect((records.first?["rewards/reward_model/mean"] as? Double)?.isFinite == true)
        // The same numbers from the checkpoint loaded here, each completion as the assistant's answer.
        let backend = CPUBackend(threadCount: 2)
        let reward = try ModelReward(path: checkpoint, backend: backend)
        let base = try DecoderModel.load(directory: SFTTests.tinyModel, backend: backend)
        try LoRAAdapter.load(from: checkpoint, into: base)
        let values = Set(completions.compactMap { $0["reward_model"] as? Double })
        #expect(values.count > 1, "different completions, different rewards: \(values)")
        for line in completions {
            let question = try #require(GRPOTests.rows.first { (line["prompt"] as? String) == $0.0 }?.0)
            let conversation = Conversation(messages: [.user(question), .assistant(try #require(line["completion"] as? String))])
            let ids = try reward.encoder.encode(conversation, mode: .training).inputIDs
            let expected = try base.rewards(TokenBatch(sequences: [ids]))[0]
            #expect(abs((line["reward_model"] as? Double ?? .nan) - Double(expected)) < 1e-4, "\(line)")
        }
        let arguments = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any]
        #expect(arguments?["reward_model"] as? String == checkpoint.path)
        // A language model is not a reward model.
        #expect { _ = try ModelReward(path: SFTTests.tinyModel, backend: backend) } throws: { "\($0)".contains("value head") }
    }

    /// --ref_model with the base model itself: the same KL and losses as the adapter switched off.
    @Test func aSeparateReferenceModelGivesTheAdapterOffNumbers() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func curve(_ edit: @escaping (inout GRPORunOptions) -> Void) throws -> [(Double, Double)] {
            let (_, records, _) = try Self.run(folder, steps: 3) {
                $0.grpo.loss.beta = 0.04
                $0.training.training.learningRate = 5e-2
                edit(&$0)
            }
            return records.map { ($0["kl"] as? Double ?? .nan, $0["loss"] as? Double ?? .nan) }
        }
        let adapterOff = try curve { _ in }
        let separate = try curve { $0.refModel = SFTTests.tinyModel }
        #expect(adapterOff.count == 3 && separate.count == 3)
        for (a, b) in zip(adapterOff, separate) {
            #expect(abs(a.0 - b.0) <= 1e-5 && abs(a.1 - b.1) <= 1e-5, "adapter off \(a), separate \(b)")
        }
        #expect(adapterOff[2].0 > 0, "the policy moved away from its reference: \(adapterOff)")
        #expect {
            _ = try Self.run(folder, steps: 1) { $0.refModel = SFTTests.tinyModel; $0.grpo.loss.beta = 0 }
        } throws: { "\($0)".contains("ref_model") }
    }
}
