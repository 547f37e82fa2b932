import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneRunFiles
import SwiftTuneTensor

extension RewardSample {
    /// The JSON object a user reward receives for this completion: `prompt`, `completion`, `completion_tokens`,
    /// `terminated`, then the row's columns (its own `prompt` / `completion` columns are dropped).
    public var jsonObject: JSONValue {
        var members: [JSONMember] = [
            JSONMember(key: "prompt", value: .string(prompt)),
            JSONMember(key: "completion", value: .string(completion)),
            JSONMember(key: "completion_tokens", value: .number(JSONNumber(completionTokenCount))),
            JSONMember(key: "terminated", value: .bool(terminated)),
        ]
        for field in row where !["prompt", "completion"].contains(field.key) { members.append(field) }
        return .object(members)
    }
}

/// `--reward_url URL`: a reward served over HTTP. Each generation batch is one `POST` of a JSON list with one object
/// per completion (`RewardSample.jsonObject`), answered by a JSON list of as many numbers, in order. A status other
/// than 2xx, an answer that is not such a list, or a value that is not a finite number stops the run, naming the row,
/// the completion and what the server said.
public final class URLReward: RewardFunction, @unchecked Sendable {
    public let name: String
    public let url: URL
    /// Seconds to wait for one answer.
    public var timeout: Double = 300

    public init(url: URL, name: String = "reward_url") {
        self.url = url
        self.name = name
    }

    private func failure(_ what: String, _ sample: RewardSample) -> TrainingError {
        .invalidArgument(flag: "reward_url", value: url.absoluteString,
                         expected: "a JSON list of one finite number per completion; \(what) for the row at \(sample.location) "
                             + "(completion \(String(reflecting: String(sample.completion.prefix(120)))))")
    }

    /// One POST, synchronously: the status and body, or the transport error.
    private func post(_ body: Data) -> (status: Int?, data: Data?, error: Error?) {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(((response as? HTTPURLResponse)?.statusCode, data, error))
            done.signal()
        }
        task.resume()
        done.wait()
        return box.get()
    }

    /// The completion handler's answer, handed across threads.
    private final class ResponseBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: (Int?, Data?, Error?) = (nil, nil, nil)
        func set(_ v: (Int?, Data?, Error?)) { lock.withLock { value = v } }
        func get() -> (status: Int?, data: Data?, error: Error?) { lock.withLock { value } }
    }

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        guard let first = samples.first else { return [] }
        let body = JSONValue.array(samples.map(\.jsonObject)).pythonJSONString(asciiOnly: false)
        let (status, data, error) = post(Data(body.utf8))
        if let error { throw failure("the request failed (\(error.localizedDescription))", first) }
        let text = String(decoding: (data ?? Data()).prefix(500), as: UTF8.self)
        guard let status, (200..<300).contains(status) else {
            throw failure("the server answered HTTP \(status.map(String.init) ?? "?") \(String(reflecting: text))", first)
        }
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(data ?? Data()) } catch {
            throw failure("the answer is not JSON: \(String(reflecting: text))", first)
        }
        guard let values = parsed.arrayValue else { throw failure("the answer is not a JSON list: \(String(reflecting: text))", first) }
        guard values.count == samples.count else {
            throw failure("the answer has \(values.count) values for \(samples.count) completions: \(String(reflecting: text))", first)
        }
        return try zip(values, samples).map { value, sample in
            guard let x = value.doubleValue, x.isFinite else {
                throw failure("the server answered \(value.pythonJSONString(asciiOnly: false))", sample)
            }
            return x
        }
    }
}

/// `--reward_model PATH`: a reward model trained by `rlhf --rlhf_type rm` (its LoRA checkpoint with the value head,
/// the base found through the run's args.json or the adapter's `base_model_name_or_path`; or a full fine-tuning
/// checkpoint with `score.weight`). Each completion is scored as `rm` trained and `infer` scores: the row's
/// conversation with the completion as the assistant's answer, rendered by the reward model's own template and
/// tokenizer, read at its last token.
public final class ModelReward: RewardFunction, @unchecked Sendable {
    public let name: String
    public let model: DecoderModel
    let encoder: TemplateEncoder
    /// Sequences per forward pass.
    public var batchSize = 16

    public init(path: URL, backend: any Backend, name: String = "reward_model", message: (String) -> Void = { _ in }) throws {
        self.name = name
        let isAdapter = FileManager.default.fileExists(atPath: path.appendingPathComponent("adapter_config.json").path)
        let run = try RunArguments.find(near: path)
        let base: URL
        if !isAdapter {
            base = path
        } else if let run {
            base = try run.modelFolder()
        } else if let named = try LoRAAdapter.loadConfig(from: path).baseModelNameOrPath,
                  FileManager.default.fileExists(atPath: named) {
            base = URL(fileURLWithPath: named)
        } else {
            throw TrainingError.invalidArgument(
                flag: "reward_model", value: path.path,
                expected: "a reward-model checkpoint whose base model can be found (no args.json next to it or above, and "
                    + "its adapter_config.json names no local base_model_name_or_path)")
        }
        let loaded = try LocalModel.load(path: base, backend: backend)
        if isAdapter { try LoRAAdapter.load(from: path, into: loaded.model) }
        guard loaded.model.score != nil else {
            throw TrainingError.invalidArgument(flag: "reward_model", value: path.path,
                                                expected: "a reward model (a checkpoint of rlhf --rlhf_type rm, with a value head `score`); "
                                                    + "this is a language model")
        }
        model = loaded.model
        let hints = TemplateRegistry.ModelHints(modelType: model.config.modelType.rawValue, modelName: loaded.name,
                                                tokenizer: loaded.tokenizer)
        let templateName = TemplateRegistry.templateName(for: hints, override: run?.template)
        encoder = TemplateEncoder(template: try TemplateRegistry.template(named: templateName), tokenizer: loaded.tokenizer,
                                  options: TemplateOptions(system: run?.system))
        message("reward model: \(path.path) (base \(base.path), template \(templateName))")
    }

    /// The token ids the reward model scores for `sample`.
    func inputIDs(_ sample: RewardSample) throws -> [Int32] {
        var conversation = sample.conversation ?? Conversation(messages: [.user(sample.prompt)])
        if conversation.messages.last?.role == .assistant { conversation.messages.removeLast() }
        conversation.messages.append(.assistant(sample.completion))
        do { return try encoder.encode(conversation.normalized(), mode: .training).inputIDs } catch {
            throw TrainingError.invalidArgument(flag: "reward_model", value: sample.location,
                                                expected: "a conversation its template renders (\(error))")
        }
    }

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        var out: [Double] = []
        var start = 0
        while start < samples.count {
            let chunk = samples[start..<min(samples.count, start + batchSize)]
            let sequences = try chunk.map(inputIDs)
            out += try model.rewards(TokenBatch(sequences: sequences)).map(Double.init)
            start += chunk.count
        }
        return out
    }
}
