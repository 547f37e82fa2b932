import Foundation
import Testing
@testable import SwiftTuneServer

@Suite struct OpenAIWireTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws(OpenAIError) -> T {
        try decodeRequest(type, from: Data(json.utf8))
    }

    @Test func chatRequestsDecodeStringsAndParts() throws {
        let request = try decode(ChatCompletionRequest.self, #"""
            {"model": "m", "messages": [{"role": "system", "content": "Be brief."},
             {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
             "temperature": 0.5, "stop": "###", "max_completion_tokens": 7, "stream": true,
             "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2}
            """#)
        #expect(request.messages.map(\.content) == ["Be brief.", "Hi there"])
        #expect(request.sampling.stop == ["###"] && request.sampling.flags.maxNewTokens == 7 && request.sampling.flags.topLogprobs == 2)
        #expect(request.stream && request.includeUsageInStream && request.sampling.logprobs)
        try request.validate()
        let completion = try decode(CompletionRequest.self, #"{"model": "m", "prompt": ["a", "b"], "logprobs": 3}"#)
        #expect(completion.prompts == ["a", "b"] && completion.sampling.flags.maxNewTokens == 16 && completion.sampling.flags.topLogprobs == 3)
    }

    @Test func badBodiesAre400sNamingTheField() {
        let cases: [(String, String?)] = [
            ("", nil),
            ("{not json", nil),
            (#"{"messages": []}"#, "model"),
            (#"{"model": "m", "messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
            (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}"#, "temperature"),
            (#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, "messages[0].content"),
        ]
        for (body, param) in cases {
            do {
                _ = try decode(ChatCompletionRequest.self, body)
                Issue.record("\(body) decoded")
            } catch {
                #expect(error.status == 400 && error.error.type == "invalid_request_error", "\(body)")
                #expect(error.error.param == param, "\(body): param \(String(describing: error.error.param))")
            }
        }
    }

    @Test func validationRejectsEmptyAndOutOfRange() throws {
        let empty = try decode(ChatCompletionRequest.self, #"{"model": "m", "messages": []}"#)
        #expect(throws: OpenAIError.invalidRequest("'messages' must contain at least one message.", param: "messages")) {
            try empty.validate()
        }
        for (field, value) in [("temperature", "3"), ("top_p", "0"), ("max_tokens", "0"), ("n", "0"), ("top_logprobs", "21")] {
            let request = try decode(ChatCompletionRequest.self,
                                     #"{"model": "m", "messages": [{"role": "user", "content": "x"}], "\#(field)": \#(value)}"#)
            #expect(throws: OpenAIError.self) { try request.validate() }
        }
    }

    @Test func responsesAndEventsHaveOpenAIsShape() throws {
        let chunk = ChatCompletionResponse(id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m",
                                           choices: [.init(index: 0, delta: ChatMessageOut(role: nil, content: "Hi"), finishReason: nil)],
                                           usage: nil)
        let event = String(decoding: ServerSentEvents.event(chunk), as: UTF8.self)
        #expect(event.hasPrefix("data: {") && event.hasSuffix("}\n\n"))
        #expect(event.contains(#""finish_reason":null"#) && event.contains(#""delta":{"content":"Hi"}"#))
        let error = String(decoding: OpenAIError.unauthorized.json, as: UTF8.self)
        #expect(error.hasPrefix(#"{"error":{"code":"invalid_api_key","message":"#))
        let usage = try JSONEncoder().encode(Usage(promptTokens: 3, completionTokens: 4))
        #expect(String(decoding: usage, as: UTF8.self).contains(#""total_tokens":7"#))
    }
}
