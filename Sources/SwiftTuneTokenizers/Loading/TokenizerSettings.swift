import Foundation

/// What `tokenizer_config.json` and `special_tokens_map.json` add to tokenizer.json: the bos/eos/pad/unk
/// tokens, `add_bos_token`/`add_eos_token` and the chat template. The config wins where both name a token.
struct TokenizerSettings {
    var ids = Tokenizer.SpecialTokens()
    var addBOSToken: Bool?
    var addEOSToken: Bool?

    init(config: (Data, String)?, specialTokensMap: (Data, String)?, lookup: [String: Int32]) throws {
        let configRoot = try config.map { try JSONCursor.parse($0.0, file: $0.1) }
        let mapRoot = try specialTokensMap.map { try JSONCursor.parse($0.0, file: $0.1) }
        func resolve(_ key: String) throws -> Int32? {
            for root in [configRoot, mapRoot].compactMap({ $0 }) {
                let node = root[key]
                if node.isNull { continue }
                // A token is a string or an AddedToken object {"content": …}.
                let content = node.value?.stringValue != nil ? try node.string() : try node["content"].string()
                guard let id = lookup[content] else {
                    throw TokenizerError.unknownToken(file: node.file, path: node.path, token: content)
                }
                return id
            }
            return nil
        }
        ids.bos = try resolve("bos_token")
        ids.eos = try resolve("eos_token")
        ids.pad = try resolve("pad_token")
        ids.unk = try resolve("unk_token")
        guard let configRoot else { return }
        if !configRoot["add_bos_token"].isNull { addBOSToken = try configRoot["add_bos_token"].bool(default: false) }
        if !configRoot["add_eos_token"].isNull { addEOSToken = try configRoot["add_eos_token"].bool(default: false) }
        let template = configRoot["chat_template"]
        if template.value?.stringValue != nil {
            ids.chatTemplate = try template.string()
        } else if !template.isNull {
            // A list of named templates: [{"name": "default", "template": …}, {"name": "tool_use", …}].
            let named = try template.array()
            let chosen = try named.first { try $0["name"].string() == "default" } ?? named.first
            ids.chatTemplate = try chosen?["template"].string()
        }
    }
}
