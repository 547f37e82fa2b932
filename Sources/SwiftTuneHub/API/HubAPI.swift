import Foundation

/// One hub's HTTP API: where a repository's file listing and each file's bytes are.
protocol HubAPI: Sendable {
    /// Lists every file of `repo` at its revision (folders left out).
    func listFiles(_ repo: HubRepo, http: HubHTTP, auth: [(String, String)]) async throws -> HubListing
    /// The URL that serves `file`'s bytes (it may redirect elsewhere).
    func downloadURL(_ repo: HubRepo, file: HubRemoteFile, commit: String?) -> String
    /// The headers that carry `token` to this hub.
    func authHeaders(token: String?) -> [(String, String)]
}

extension HubAPI {
    func authHeaders(token: String?) -> [(String, String)] {
        guard let token, !token.isEmpty else { return [] }
        return [("Authorization", "Bearer \(token)")]
    }
}

enum HubURL {
    /// RFC 3986 unreserved characters: what Python's `urllib.parse.quote(s, safe="")` leaves alone.
    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    private static let unreservedAndSlash = unreserved.union(CharacterSet(charactersIn: "/"))

    /// Percent-encodes a path segment or query value (`refs/pr/1` → `refs%2Fpr%2F1`).
    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Percent-encodes a repository path, keeping its slashes (`sub dir/a.json` → `sub%20dir/a.json`).
    static func path(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreservedAndSlash) ?? text
    }
}

/// A JSON value that may be a number or a string (ModelScope's `Code` and dataset `Id`).
struct HubLooseString: Decodable, Sendable {
    var value: String

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let int = try? container.decode(Int64.self) {
            value = String(int)
        } else {
            value = try container.decode(String.self)
        }
    }
}
