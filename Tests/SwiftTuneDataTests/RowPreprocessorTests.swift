import Foundation
import Testing
@testable import SwiftTuneData
import SwiftTuneChat
import SwiftTuneJSON

func row(_ json: String, columns: [(from: String, to: String)] = []) throws -> DatasetRow {
    let fields = try #require(try JSONParser.parse(json, options: .python).objectMembers)
    return try RowPreprocessor(columns: columns).convert(fields, at: RowLocation(file: "t.jsonl", line: 7))
}

func rowError(_ json: String) -> DataError? {
    do { _ = try row(json); return nil } catch let e as DataError { return e } catch { return nil }
}

@Suite struct RowPreprocessorTests {
    @Test func openAIMessages() throws {
        let r = try row(#"{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}"#)
        #expect(r.conversation.system == "S" && r.conversation.messages == [.user("q"), .assistant("a")])
        let tools = try row(#"{"messages": [{"role": "user", "content": "w?"}, {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]}, {"role": "tool", "content": "r"}, {"role": "assistant", "content": "done"}], "tools": "[{\"name\": \"f\"}]"}"#)
        #expect(tools.conversation.messages[1].toolCalls == [ToolCall(name: "f", arguments: ["x": 1])])
        #expect(tools.conversation.messages[2].role == .tool)
        #expect(tools.conversation.tools?.count == 1)
    }

    @Test func shareGPT() throws {
        let r = try row(#"{"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "q"}, {"from": "function_call", "value": "{\"name\": \"f\", \"arguments\": {}}"}, {"from": "observation", "value": "o"}, {"from": "gpt", "value": "a"}], "system": "ignored"}"#)
        #expect(r.conversation.system == "S")
        #expect(r.conversation.messages.map(\.role) == [.user, .assistant, .tool, .assistant])
        #expect(r.conversation.messages[1].toolCalls?.first?.name == "f")
        let pairs = try row(#"{"conversation": [{"human": "q1", "assistant": "a1"}, {"human": "q2", "assistant": "a2"}], "system": "S"}"#)
        #expect(pairs.conversation.messages == [.user("q1"), .assistant("a1"), .user("q2"), .assistant("a2")] && pairs.conversation.system == "S")
        #expect(rowError(#"{"conversations": [{"from": "bing", "value": "q"}, {"from": "gpt", "value": "a"}]}"#)?.description.contains("unknown role 'bing'") == true)
    }

    @Test func alpacaAndQueryResponse() throws {
        let a = try row(#"{"instruction": "Do", "input": "this", "output": "done", "system": "S", "history": [["h1", "r1"]]}"#)
        #expect(a.conversation.messages == [.user("h1"), .assistant("r1"), .user("Do\nthis"), .assistant("done")])
        #expect(a.conversation.system == "S")
        #expect(try row(#"{"instruction": "Do", "input": "", "output": "x"}"#).conversation.messages.first == .user("Do"))
        #expect(try row(#"{"question": "2+2?", "answer": "4"}"#).conversation.messages == [.user("2+2?"), .assistant("4")])
        #expect(try row(#"{"prompt": "p", "completion": "c"}"#).conversation.messages == [.user("p"), .assistant("c")])
        #expect(try row(#"{"q": "x", "a": "y"}"#, columns: [("q", "query"), ("A", "response")]).conversation.messages == [.user("x"), .assistant("y")])
    }

    @Test func preferenceRows() throws {
        let dpo = try row(#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "good"}], "rejected_response": "bad"}"#)
        #expect(dpo.rejectedResponse == "bad" && dpo.rejectedConversation?.messages.last == .assistant("bad"))
        let lf = try row(#"{"conversations": [{"from": "human", "value": "q"}], "chosen": {"from": "gpt", "value": "good"}, "rejected": {"from": "gpt", "value": "bad"}}"#)
        #expect(lf.conversation.messages == [.user("q"), .assistant("good")] && lf.rejectedResponse == "bad")
        let hh = try row(#"{"chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant: funny", "rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant: no"}"#)
        #expect(hh.conversation.messages == [.user("hi"), .assistant("hello"), .user("joke?"), .assistant("funny")] && hh.rejectedResponse == "no")
        let kto = try row(#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "label": false}"#)
        #expect(kto.label == false)
        #expect(try row(#"{"query": "q", "response": "a", "label": 1}"#).label == true)
        #expect(rowError(#"{"query": "q", "response": "a", "rejected_response": "a"}"#) != nil)
    }

    @Test func badRowsNameLineAndKey() throws {
        let number = try #require(rowError(#"{"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "x"}]}"#))
        #expect(number.description.contains("t.jsonl:7") && number.description.contains("messages[0].content") && number.description.contains("got a number"))
        let empty = try #require(rowError(#"{"query": "q", "response": "  "}"#))
        guard case .badRow(_, .emptyAnswer, _, _) = empty else { Issue.record("\(empty)"); return }
        let none = try #require(rowError(#"{"foo": 1}"#))
        guard case .badRow(_, .noUsableFields, _, _) = none else { Issue.record("\(none)"); return }
        #expect(none.description.contains("foo"))
        #expect(throws: DataError.self) { try RowPreprocessor.parseColumns("[1]") }
        #expect(try RowPreprocessor.parseColumns(#"{"a": "query"}"#).first?.to == "query")
    }
}
