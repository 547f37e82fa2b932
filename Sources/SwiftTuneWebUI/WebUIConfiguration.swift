import Foundation

/// How `swift-tune web-ui` (or `app`) serves: the address, the key, the folder the page may touch, and the
/// executable its runs start.
public struct WebUIConfiguration: Sendable {
    /// `--host`: 127.0.0.1 unless told otherwise, so the page is not on the network by default.
    public var host: String
    /// `--port`; 0 picks a free one (reported through `onServerRunning`).
    public var port: Int
    /// `--api_key`: every `/api/…` and `/v1/…` request needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// `--root_dir`: paths the page names (output folders, run folders, reports) must lie inside it.
    public var rootDirectory: URL
    /// The `swift-tune` executable runs are started with (`swift-tune sft …` as a child process).
    public var executable: URL
    /// `app`: the Chat tab alone (no runs, no forms).
    public var chatOnly: Bool

    public init(host: String = "127.0.0.1", port: Int = 7860, apiKey: String? = nil,
                rootDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                executable: URL, chatOnly: Bool = false) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.rootDirectory = rootDirectory.standardizedFileURL.resolvingSymlinksInPath()
        self.executable = executable
        self.chatOnly = chatOnly
    }
}
