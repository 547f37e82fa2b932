import SwiftTuneTokenizers

/// Turns conversations into token ids and labels with a template and a tokenizer, as ms-swift's
/// `Template._encode` does.
///
/// **Segment-wise tokenization.** ms-swift does not tokenize the rendered string in one go. It merges
/// neighbouring text pieces that share a loss flag (template text, system, query: untrained; an answer and the
/// suffix after it: trained), tokenizes each run separately and concatenates the ids; token-id pieces (BOS)
/// stay separate. Where a run boundary falls inside what BPE would merge (e.g. `"\n"` ending a prompt and an
/// answer starting with `"\n"`), the ids differ from `tokenizer(rendered_text)`; the boundary tokens are what
/// the model sees at generation, where the prompt is tokenized alone, so this is the training-time behaviour
/// ms-swift chose. Special tokens written in text (`<|im_end|>`) are matched by the tokenizer in both cases.
///
/// After tokenization, ms-swift's "dynamic EOS" also trains the template's suffix tokens where they begin an
/// untrained run that directly follows a trained one (the `<|im_end|>` closing an earlier answer inside
/// `chat_sep`), and `labels[0]` is set to -100.
public struct TemplateEncoder: Sendable {
    public let template: ChatTemplate
    public let tokenizer: any TextTokenizer
    public var options: TemplateOptions

    public init(template: ChatTemplate, tokenizer: any TextTokenizer, options: TemplateOptions = TemplateOptions()) {
        self.template = template
        self.tokenizer = tokenizer
        self.options = options
    }

    /// The template actually applied (the plain-text one under `--use_chat_template false`).
    public var effectiveTemplate: ChatTemplate { options.useChatTemplate ? template : template.plainText() }

    /// A tokenized run: the text (nil for fixed ids), its ids and whether it is trained.
    public struct Segment: Sendable, Equatable {
        public var text: String?
        public var ids: [Int32]
        public var trained: Bool
    }

    /// The runs ms-swift tokenizes separately, in order.
    public func segments(_ conversation: Conversation, mode: RenderMode = .training) throws(ChatError) -> [Segment] {
        let contexts = try template.contexts(for: conversation, mode: mode, options: options, tokenizer: tokenizer)
        return Self.mergeRuns(contexts).map { context in
            switch context.content {
            case let .text(s):
                return Segment(text: s, ids: tokenizer.encode(s, addSpecialTokens: false), trained: context.trained)
            case let .tokens(ids):
                return Segment(text: nil, ids: ids, trained: context.trained)
            }
        }
    }

    /// Token ids and labels for `conversation`. In `.generation` mode every label is -100 and the ids end with
    /// the assistant header.
    public func encode(_ conversation: Conversation, mode: RenderMode = .training) throws(ChatError) -> EncodedSample {
        var inputIDs: [Int32] = []
        var labels: [Int32] = []
        for segment in try segments(conversation, mode: mode) {
            inputIDs += segment.ids
            labels += segment.trained ? segment.ids : Array(repeating: EncodedSample.ignoreIndex, count: segment.ids.count)
        }
        if mode == .training {
            Self.addDynamicEOS(inputIDs: inputIDs, labels: &labels, suffixIDs: try suffixIDs())
            if !labels.isEmpty { labels[0] = EncodedSample.ignoreIndex }
        } else {
            labels = Array(repeating: EncodedSample.ignoreIndex, count: inputIDs.count)
        }
        return EncodedSample(inputIDs: inputIDs, labels: labels)
    }

    /// Encodes a dataset row: the chosen conversation, the rejected one for DPO, the label for KTO.
    public func encode(_ row: DatasetRow) throws(ChatError) -> EncodedRow {
        let chosen = try encode(row.conversation)
        let rejected = try row.rejectedConversation.map { (c: Conversation) throws(ChatError) in try encode(c) }
        return EncodedRow(chosen: chosen, rejected: rejected, label: row.label)
    }

    /// Ids of the template suffix, each piece tokenized on its own.
    func suffixIDs() throws(ChatError) -> [Int32] {
        var ids: [Int32] = []
        for piece in effectiveTemplate.suffix {
            switch piece {
            case let .text(s): ids += tokenizer.encode(s, addSpecialTokens: false)
            case let .tokenIDs(t): ids += t
            case .bosToken:
                guard let id = tokenizer.bosTokenID else { throw .missingSpecialToken(template: template.name, token: "BOS") }
                ids.append(id)
            case .eosToken:
                guard let id = tokenizer.eosTokenID else { throw .missingSpecialToken(template: template.name, token: "EOS") }
                ids.append(id)
            }
        }
        return ids
    }

    /// ms-swift `_simplify_context_list`: neighbouring text pieces with the same loss flag become one run;
    /// fixed token ids stay on their own.
    static func mergeRuns(_ contexts: [TemplateContext]) -> [TemplateContext] {
        var out: [TemplateContext] = []
        var pending: [String] = []
        var pendingTrained = false
        func flush() {
            if !pending.isEmpty {
                out.append(TemplateContext(content: .text(pending.joined()), kind: .other, trained: pendingTrained))
                pending.removeAll()
            }
        }
        for context in contexts {
            if case let .text(s) = context.content, context.trained == pendingTrained {
                pending.append(s)
            } else {
                flush()
                if case let .text(s) = context.content { pending.append(s) } else { out.append(context) }
                pendingTrained = context.trained
            }
        }
        flush()
        return out
    }

    /// ms-swift `_add_dynamic_eos`: an untrained run that follows a trained one and starts with the suffix ids
    /// gets those ids trained.
    static func addDynamicEOS(inputIDs: [Int32], labels: inout [Int32], suffixIDs: [Int32]) {
        let n = labels.count, k = suffixIDs.count
        guard k > 0 else { return }
        var start = 0
        for i in 1...max(n, 1) where n > 0 {
            if labels[i - 1] >= 0 && i < n && labels[i] == EncodedSample.ignoreIndex {
                start = i
            } else if start > 0 && labels[i - 1] == EncodedSample.ignoreIndex && (i == n || labels[i] >= 0) {
                if i - start >= k && Array(inputIDs[start..<start + k]) == suffixIDs {
                    labels.replaceSubrange(start..<start + k, with: suffixIDs)
                }
            }
        }
    }
}
