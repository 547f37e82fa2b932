import Foundation
@testable import SwiftTuneChat
import SwiftTuneTestSupport
import Testing

/// The trained text of a sample: each run of labelled tokens decoded, in order.
func trainedRuns(_ s: EncodedSample, _ t: TestTokenizer) -> [String] {
    var runs: [String] = []
    var current: [Int32] = []
    for l in s.labels {
        if l == EncodedSample.ignoreIndex {
            if !current.isEmpty { runs.append(t.decode(current, skipSpecialTokens: false)); current = [] }
        } else { current.append(l) }
    }
    if !current.isEmpty { runs.append(t.decode(current, skipSpecialTokens: false)) }
    return runs
}

let threeRounds = Conversation(messages: [.user("q1"), .assistant("a1"), .user("q2"), .assistant("a2"), .user("q3"), .assistant("a3")])

@Suite struct TemplateEncodingTests {
    let tok = TestTokenizer()

    @Test func defaultLossTrainsEveryAnswerAndItsEnd() throws {
        let enc = TemplateEncoder(template: .qwen2_5, tokenizer: tok)
        let s = try enc.encode(threeRounds)
        #expect(s.inputIDs.count == s.labels.count)
        #expect(s.labels[0] == -100)
        // ms-swift: chat_sep "<|im_end|>\n" is untrained, but dynamic EOS trains the suffix ids it starts with.
        #expect(trainedRuns(s, tok) == ["a1<|im_end|>\n", "a2<|im_end|>\n", "a3<|im_end|>\n"])
        #expect(tok.decode(s.inputIDs, skipSpecialTokens: false) == (try ChatTemplate.qwen2_5.render(threeRounds, mode: .training)))
    }

    @Test func lastRoundAndAll() throws {
        let last = try TemplateEncoder(template: .qwen2_5, tokenizer: tok, options: TemplateOptions(lossScale: .lastRound)).encode(threeRounds)
        #expect(trainedRuns(last, tok) == ["a3<|im_end|>\n"])
        let all = try TemplateEncoder(template: .qwen2_5, tokenizer: tok, options: TemplateOptions(lossScale: .all)).encode(threeRounds)
        #expect(all.labels[0] == -100)
        #expect(Array(all.labels.dropFirst()) == Array(all.inputIDs.dropFirst()))
    }

    @Test func perMessageLossOverrides() throws {
        var conv = threeRounds
        conv.messages[1].loss = false
        let s = try TemplateEncoder(template: .llama3, tokenizer: tok).encode(conv)
        #expect(trainedRuns(s, tok) == ["a2<|eot_id|>", "a3<|eot_id|>"])
    }

    @Test func llama3Masks() throws {
        let s = try TemplateEncoder(template: .llama3, tokenizer: tok).encode(threeRounds)
        #expect(trainedRuns(s, tok) == ["a1<|eot_id|>", "a2<|eot_id|>", "a3<|eot_id|>"])
    }

    @Test func qwen3EmptyThinkHandling() throws {
        let conv = Conversation(messages: [.user("q1"), .assistant("a1"), .user("q2"), .assistant("a2")])
        let text = try ChatTemplate.qwen3.render(conv, mode: .training)
        #expect(text == "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na1<|im_end|>\n"
            + "<|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na2<|im_end|>\n")
        // The empty think block is in the input but not trained (ms-swift's +ignore_empty_think).
        let s = try TemplateEncoder(template: .qwen3, tokenizer: tok).encode(conv)
        #expect(trainedRuns(s, tok) == ["a1<|im_end|>\n", "a2<|im_end|>\n"])
        // last_round: only the last answer gets the prefix; history thinking is stripped.
        let lr = try ChatTemplate.qwen3.render(Conversation(messages: [.user("q1"), .assistant("<think>x</think>\n\na1"), .user("q2"), .assistant("a2")]),
                                               mode: .training, options: TemplateOptions(lossScale: .lastRound))
        #expect(lr.contains("assistant\na1<|im_end|>") && lr.contains("assistant\n<think>\n\n</think>\n\na2"))
        // Generation: the non-thinking prefix is appended after the assistant header.
        let gen = try ChatTemplate.qwen3.render(Conversation(messages: [.user("hi")]), mode: .generation)
        #expect(gen == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
        let thinking = try ChatTemplate.qwen3.render(Conversation(messages: [.user("hi")]), mode: .generation,
                                                     options: TemplateOptions(enableThinking: true))
        #expect(thinking == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func generationAppendsAssistantPrompt() throws {
        let conv = Conversation(messages: [.user("hi")])
        #expect(try ChatTemplate.qwen.render(conv, mode: .generation)
            == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        let s = try TemplateEncoder(template: .llama3, tokenizer: tok).encode(conv, mode: .generation)
        #expect(s.labels.allSatisfy { $0 == -100 })
        #expect(tok.decode(s.inputIDs, skipSpecialTokens: false).hasSuffix("<|start_header_id|>assistant<|end_header_id|>\n\n"))
    }

    @Test func segmentWiseTokenizationDiffersFromWholeString() throws {
        // The prompt ends with "\n", the answer starts with "\n": tokenized whole, "\n\n" would merge into one id.
        let conv = Conversation(system: "s", messages: [.user("q"), .assistant("\nanswer")])
        let enc = TemplateEncoder(template: .chatml, tokenizer: tok)
        let s = try enc.encode(conv)
        let whole = tok.encode(try ChatTemplate.chatml.render(conv, mode: .training), addSpecialTokens: false)
        #expect(s.inputIDs != whole)
        #expect(tok.decode(s.inputIDs, skipSpecialTokens: false) == tok.decode(whole, skipSpecialTokens: false))
        let segments = try enc.segments(conv)
        #expect(segments.map(\.trained) == [false, true])
        #expect(segments[1].text == "\nanswer<|im_end|>\n")
    }

    @Test func llama2AndMistralAndDefault() throws {
        let conv = Conversation(messages: [.user("q1"), .assistant("a1"), .user("q2"), .assistant("a2")])
        #expect(try ChatTemplate.llama.render(Conversation(system: "S", messages: conv.messages), mode: .training)
            == "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nq1 [/INST]a1</s><s>[INST] q2 [/INST]a2</s>")
        #expect(try ChatTemplate.llama.render(conv, mode: .training).contains(ChatTemplate.llama2DefaultSystem))
        #expect(try ChatTemplate.mistral.render(conv, mode: .training) == "<s>[INST] q1 [/INST]a1</s>[INST] q2 [/INST]a2</s>")
        #expect(try ChatTemplate.mistral.render(Conversation(system: "S", messages: conv.messages), mode: .training)
            == "<s>[INST] q1 [/INST]a1</s>[INST] S\n\nq2 [/INST]a2</s>")
        // default: BOS from the tokenizer (auto), EOS id as suffix.
        let bosTok = TestTokenizer(bos: "<s>", eos: "</s>", addsBOS: true)
        let s = try TemplateEncoder(template: .default, tokenizer: bosTok).encode(Conversation(messages: [.user("q"), .assistant("a")]))
        #expect(s.inputIDs.first == bosTok.tokenID("<s>"))
        #expect(s.inputIDs.last == bosTok.tokenID("</s>"))
        #expect(trainedRuns(s, bosTok) == ["a</s>"])
        #expect(bosTok.decode(s.inputIDs, skipSpecialTokens: false)
            == "<s>You are a helpful assistant.\n\n### Human:\nq\n\n### Assistant:\na</s>")
    }

    @Test func plainTextForPretraining() throws {
        let bosTok = TestTokenizer(bos: "<s>", eos: "</s>", addsBOS: true)
        let enc = TemplateEncoder(template: .qwen2_5, tokenizer: bosTok,
                                  options: TemplateOptions(system: "ignored", useChatTemplate: false, lossScale: .all))
        let s = try enc.encode(Conversation(messages: [.assistant("Some raw text.")]))
        #expect(bosTok.decode(s.inputIDs, skipSpecialTokens: false) == "<s>Some raw text.</s>")
        #expect(s.labels[0] == -100 && Array(s.labels.dropFirst()) == Array(s.inputIDs.dropFirst()))
    }

    @Test func systemPrecedence() throws {
        let q = [Message.user("q"), .assistant("a")]
        #expect(try ChatTemplate.qwen.render(Conversation(messages: q), mode: .training).contains("You are a helpful assistant."))
        let flag = TemplateOptions(system: "FLAG")
        #expect(try ChatTemplate.qwen.render(Conversation(messages: q), mode: .training, options: flag).contains("system\nFLAG<|im_end|>"))
        let row = try ChatTemplate.qwen.render(Conversation(messages: [.system("ROW")] + q), mode: .training, options: flag)
        #expect(row.contains("system\nROW<|im_end|>") && !row.contains("FLAG"))
        #expect(try !ChatTemplate.llama3.render(Conversation(messages: q), mode: .training).contains("system"))
    }

    @Test func errors() throws {
        #expect(throws: ChatError.self) { try ChatTemplate.qwen.render(Conversation(messages: [.user("a"), .system("late"), .assistant("b")]), mode: .training) }
        let noSystem = ChatTemplate(name: "nosys", prefix: [], prompt: ["{{QUERY}}"], chatSep: ["\n"])
        #expect(throws: ChatError.systemNotSupported(template: "nosys")) {
            try noSystem.render(Conversation(system: "S", messages: [.user("q"), .assistant("a")]), mode: .training)
        }
        #expect(throws: ChatError.self) { try ChatTemplate.default.render(Conversation(messages: [.user("q"), .assistant("a")]), mode: .training) }
        #expect(throws: ChatError.self) { try TemplateRegistry.template(named: "nope") }
        #expect(throws: ChatError.self) { try LossScale(parsing: "react") }
        #expect(try LossScale(parsing: "last-round") == .lastRound)
        // Messages merge like ms-swift: two user turns in a row become one.
        #expect(try ChatTemplate.llama3.render(Conversation(messages: [.user("a"), .user("b"), .assistant("c")]), mode: .training)
            .contains("user<|end_header_id|>\n\nab<|eot_id|>"))
    }

    @Test func singleRoundTemplateKeepsLastRound() throws {
        #expect(try ChatTemplate.plain.render(threeRounds, mode: .training, tokenizer: tok) == "q3a3<|im_end|>")
    }

    @Test func automaticChoice() {
        typealias H = TemplateRegistry.ModelHints
        #expect(TemplateRegistry.templateName(for: H(modelType: "qwen2")) == "qwen2_5")
        #expect(TemplateRegistry.templateName(for: H(modelType: "qwen3")) == "qwen3")
        #expect(TemplateRegistry.templateName(for: H(modelType: "llama", hasEotID: true)) == "llama3")
        #expect(TemplateRegistry.templateName(for: H(modelType: "llama")) == "llama")
        #expect(TemplateRegistry.templateName(for: H(modelType: "llama", chatTemplate: "{{'<|im_start|>'}}")) == "chatml")
        #expect(TemplateRegistry.templateName(for: H(modelType: "mistral")) == "mistral")
        // Model types no family runs: the MoE variants take their dense family's choice, Qwen 1 its own.
        #expect(TemplateRegistry.templateName(for: H(modelType: "qwen2_moe", hasEotID: true)) == "qwen2_5")
        #expect(TemplateRegistry.templateName(for: H(modelType: "qwen3_moe")) == "qwen3")
        #expect(TemplateRegistry.templateName(for: H(modelType: "qwen", modelName: "x/Qwen2.5-7B")) == "qwen")
        #expect(TemplateRegistry.templateName(for: H(modelType: "mixtral", chatTemplate: "{{'<|im_start|>'}}")) == "chatml")
        #expect(TemplateRegistry.templateName(for: H(modelType: "mixtral", chatTemplate: "<<SYS>>")) == "mistral")
        #expect(TemplateRegistry.templateName(for: H(modelName: "Qwen/Qwen2.5-7B-Instruct")) == "qwen2_5")
        #expect(TemplateRegistry.templateName(for: H(modelName: "meta-llama/Llama-3.2-1B-Instruct")) == "llama3_2")
        #expect(TemplateRegistry.templateName(for: H()) == "default")
        #expect(TemplateRegistry.templateName(for: H(modelType: "qwen2"), override: "chatml") == "chatml")
        for name in TemplateRegistry.names { #expect((try? TemplateRegistry.template(named: name, llama3_2Date: "1 Jan 2025")) != nil) }
        #expect(ChatTemplate.qwen2_5.allStopWords(eosToken: "<|im_end|>") == ["<|endoftext|>", "<|im_end|>"])
        #expect(ChatTemplate.llama3_2DateString(Date(timeIntervalSince1970: 1_721_995_200)).hasSuffix("Jul 2024"))
    }

    @Test func dpoRowEncodesBothAnswers() throws {
        let row = DatasetRow(conversation: Conversation(messages: [.user("q"), .assistant("good")]), rejectedResponse: "bad")
        let e = try TemplateEncoder(template: .llama3, tokenizer: tok).encode(row)
        #expect(trainedRuns(e.chosen, tok) == ["good<|eot_id|>"])
        #expect(trainedRuns(try #require(e.rejected), tok) == ["bad<|eot_id|>"])
    }
}
