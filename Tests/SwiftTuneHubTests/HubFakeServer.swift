import Foundation
import SwiftTuneCheckpoint
import NIOCore
import NIOHTTP1
import NIOPosix

/// A file of a fake repository.
struct HubFakeFile: Sendable {
    var path: String
    var data: Data
    /// Stored in git LFS on HF (listed with `lfs.sha256`).
    var lfs: Bool

    var sha256: String { SHA256.hex(data) }
    /// git's blob id: SHA-1 of "blob <size>\0" + content (HF's ETag of a non-LFS file).
    var gitBlobID: String {
        SHA1.hex(Data("blob \(data.count)\u{0}".utf8) + data)
    }
}

/// A fake repository, served with both hubs' URL layouts.
struct HubFakeRepo: Sendable {
    var kind: String  // "model" or "dataset"
    var id: String
    var commit: String
    var files: [HubFakeFile]
    /// ModelScope's numeric dataset id.
    var datasetNumber = 4242

    /// Deterministic bytes (an LCG) so that hashes are stable.
    static func bytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed
        return Data((0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        })
    }

    static func model(_ id: String = "fake-org/tiny-model") -> HubFakeRepo {
        HubFakeRepo(kind: "model", id: id, commit: String(repeating: "a1", count: 20), files: [
            HubFakeFile(path: "config.json", data: Data(#"{"model_type": "qwen2", "hidden_size": 8}"#.utf8), lfs: false),
            HubFakeFile(path: "tokenizer.json", data: Data(#"{"model": {"type": "BPE", "vocab": {}}}"#.utf8), lfs: false),
            HubFakeFile(path: "tokenizer_config.json", data: Data(#"{"eos_token": "</s>"}"#.utf8), lfs: false),
            HubFakeFile(path: "model.safetensors", data: bytes(300_000, seed: 7), lfs: true),
            HubFakeFile(path: "1_Pooling/config.json", data: Data(#"{"pooling": "mean"}"#.utf8), lfs: false),
            HubFakeFile(path: "2_Dense/config.json", data: Data(#"{"pooling": "mean"}"#.utf8), lfs: false),  // same blob
            HubFakeFile(path: "README.md", data: Data("# tiny".utf8), lfs: false),
            HubFakeFile(path: "pytorch_model.bin", data: bytes(50_000, seed: 9), lfs: true),
        ])
    }

    static func dataset(_ id: String = "fake-org/tiny-data") -> HubFakeRepo {
        HubFakeRepo(kind: "dataset", id: id, commit: String(repeating: "d4", count: 20), files: [
            HubFakeFile(path: "train.jsonl", data: Data(String(repeating: #"{"query": "q", "response": "r"}"# + "\n", count: 2000).utf8), lfs: true),
            HubFakeFile(path: "data/test.jsonl", data: Data(#"{"query": "t", "response": "u"}"#.utf8 + [10]), lfs: false),
            HubFakeFile(path: "README.md", data: Data("# data".utf8), lfs: false),
        ])
    }

    func file(_ path: String) -> HubFakeFile? { files.first { $0.path == path } }
}

/// One request as the fake hub saw it.
struct HubFakeRequest: Sendable {
    var port: Int
    var uri: String
    var headers: [String: String]
}

/// A fake HF hub and ModelScope on 127.0.0.1 (random ports), for tests that never leave the machine. A second
/// port plays the CDN that HF's `resolve` URLs redirect to. It can drop a connection mid-file (once per file),
/// serve corrupted bytes for a file, and require a token; it honours `Range` and records every request and
/// every body byte it sent.
final class HubFakeServer: @unchecked Sendable {
    private let lock = NSLock()
    private var _repos: [HubFakeRepo] = []
    private var _requests: [HubFakeRequest] = []
    private var _bodyBytes: [String: Int] = [:]
    private var _dropped: Set<String> = []
    private var channels: [Channel] = []
    private var children: [Channel] = []

    /// Files (repository paths) whose first download stops half-way with the connection closed.
    var dropOnce: Set<String> { get { lock.withLock { _dropOnce } } set { lock.withLock { _dropOnce = newValue } } }
    private var _dropOnce: Set<String> = []
    /// Files served with one byte flipped (their listed SHA-256 stays right).
    var corrupt: Set<String> { get { lock.withLock { _corrupt } } set { lock.withLock { _corrupt = newValue } } }
    private var _corrupt: Set<String> = []
    /// When set, hub requests (not CDN ones) need `Authorization: Bearer <token>`.
    var requiredToken: String? { get { lock.withLock { _requiredToken } } set { lock.withLock { _requiredToken = newValue } } }
    private var _requiredToken: String?
    /// HF `resolve` answers 302 to the CDN port.
    var redirectToCDN: Bool { get { lock.withLock { _redirect } } set { lock.withLock { _redirect = newValue } } }
    private var _redirect = true

    private(set) var port = 0
    private(set) var cdnPort = 0
    var endpoint: String { "http://127.0.0.1:\(port)" }

    var requests: [HubFakeRequest] { lock.withLock { _requests } }
    /// Body bytes sent for a repository path (summed over requests and ports).
    func bodyBytesSent(_ path: String) -> Int { lock.withLock { _bodyBytes[path, default: 0] } }
    func fileRequests(_ path: String) -> [HubFakeRequest] {
        requests.filter { $0.uri.contains("/resolve/") || $0.uri.contains("/cdn/") || $0.uri.contains("FilePath=") }
            .filter { request in Self.filePath(of: request.uri) == path }
    }

    init(repos: [HubFakeRepo]) { _repos = repos }

    static func start(repos: [HubFakeRepo] = [.model(), .dataset()]) async throws -> HubFakeServer {
        let server = HubFakeServer(repos: repos)
        server.port = try await server.listen(cdn: false)
        server.cdnPort = try await server.listen(cdn: true)
        return server
    }

    private func listen(cdn: Bool) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] child in
                lock.withLock { children.append(child) }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(HubFakeHandler(server: self, cdn: cdn))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        lock.withLock { channels.append(channel) }
        return channel.localAddress?.port ?? 0
    }

    /// Closes the listeners and every open connection.
    func stop() async {
        let all = lock.withLock { channels + children }
        for channel in all { try? await channel.close() }
    }

    // MARK: - Routing

    /// What to send for a request: status, headers, body, and where to cut the connection.
    struct Reply {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var body = Data()
        var dropAfter: Int?
        var file: String?
    }

    func reply(to head: HTTPRequestHead, cdn: Bool) -> Reply {
        let port = cdn ? cdnPort : self.port
        var headers: [String: String] = [:]
        for (name, value) in head.headers { headers[name.lowercased()] = value }
        lock.withLock { _requests.append(HubFakeRequest(port: port, uri: head.uri, headers: headers)) }
        if !cdn, let token = requiredToken, headers["authorization"] != "Bearer \(token)" {
            return Reply(status: .unauthorized, body: Data(#"{"error": "Invalid credentials"}"#.utf8))
        }
        guard let components = URLComponents(string: "http://fake" + head.uri) else { return Reply(status: .badRequest) }
        let parts = components.path.split(separator: "/").map(String.init)
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        if cdn { return cdnReply(parts, range: headers["range"]) }
        if parts.starts(with: ["api", "v1"]) { return modelScopeReply(Array(parts.dropFirst(2)), query: query, range: headers["range"]) }
        if parts.first == "api" { return hfAPIReply(Array(parts.dropFirst())) }
        return hfResolveReply(parts, range: headers["range"])
    }

    private func repo(kind: String, id: String) -> HubFakeRepo? {
        lock.withLock { _repos.first { $0.kind == kind && $0.id == id } }
    }

    private func json(_ object: Any) -> Reply {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Reply(status: .ok, headers: [("Content-Type", "application/json")], body: data)
    }

    /// `/api/{models|datasets}/{org}/{name}/revision/{rev}`.
    private func hfAPIReply(_ parts: [String]) -> Reply {
        guard parts.count == 5, parts[3] == "revision", let repo = repo(kind: String(parts[0].dropLast()), id: "\(parts[1])/\(parts[2])"),
              ["main", repo.commit].contains(parts[4]) else { return Reply(status: .notFound, body: Data("Repository not found".utf8)) }
        let siblings: [[String: Any]] = repo.files.map { file in
            var sibling: [String: Any] = ["rfilename": file.path, "size": file.data.count, "blobId": file.gitBlobID]
            if file.lfs { sibling["lfs"] = ["sha256": file.sha256, "size": file.data.count, "pointerSize": 134] }
            return sibling
        }
        return json(["id": repo.id, "sha": repo.commit, "siblings": siblings])
    }

    /// `/[datasets/]{org}/{name}/resolve/{rev}/{path}`: 302 to the CDN, or the bytes.
    private func hfResolveReply(_ parts: [String], range: String?) -> Reply {
        let kind = parts.first == "datasets" ? "dataset" : "model"
        let rest = kind == "dataset" ? Array(parts.dropFirst()) : parts
        guard rest.count >= 5, rest[2] == "resolve", let repo = repo(kind: kind, id: "\(rest[0])/\(rest[1])"),
              ["main", repo.commit].contains(rest[3]), let file = repo.file(rest[4...].joined(separator: "/")) else {
            return Reply(status: .notFound, body: Data("Entry not found".utf8))
        }
        if redirectToCDN {
            let target = "http://127.0.0.1:\(cdnPort)/cdn/\(kind)/\(repo.id)/\(file.path)"
            return Reply(status: .found, headers: [("Location", target), ("X-Repo-Commit", repo.commit)])
        }
        return fileReply(file, range: range)
    }

    /// `/cdn/{kind}/{org}/{name}/{path}`.
    private func cdnReply(_ parts: [String], range: String?) -> Reply {
        guard parts.count >= 5, parts[0] == "cdn", let repo = repo(kind: parts[1], id: "\(parts[2])/\(parts[3])"),
              let file = repo.file(parts[4...].joined(separator: "/")) else { return Reply(status: .notFound) }
        return fileReply(file, range: range)
    }

    /// ModelScope: `models/{org}/{name}/repo/files`, `models/{org}/{name}/repo?FilePath=`, `datasets/{org}/{name}`,
    /// `datasets/{number}/repo/tree`, `datasets/{org}/{name}/repo?FilePath=`.
    private func modelScopeReply(_ parts: [String], query: [String: String], range: String?) -> Reply {
        let notFound = Reply(status: .notFound, body: Data(#"{"Code": 10010205, "Message": "not found"}"#.utf8))
        guard parts.count >= 2 else { return notFound }
        let kind = parts[0] == "models" ? "model" : "dataset"
        if kind == "dataset", parts.count == 4, parts[2] == "repo", parts[3] == "tree" {
            guard let repo = lock.withLock({ _repos.first { $0.kind == "dataset" && String($0.datasetNumber) == parts[1] } }),
                  query["Revision"] == "master" else { return notFound }
            let page = Int(query["PageNumber"] ?? "1") ?? 1
            let size = Int(query["PageSize"] ?? "100") ?? 100
            let entries = modelScopeFiles(repo)
            let slice = Array(entries.dropFirst((page - 1) * size).prefix(size))
            return json(["Code": 200, "Data": ["Files": slice], "Success": true])
        }
        guard parts.count >= 3, let repo = repo(kind: kind, id: "\(parts[1])/\(parts[2])") else { return notFound }
        if kind == "dataset", parts.count == 3 {
            return json(["Code": 200, "Data": ["Id": repo.datasetNumber, "Type": 0], "Success": true])
        }
        guard parts.count >= 4, parts[3] == "repo", query["Revision"] == "master" else { return notFound }
        if parts.count == 5, parts[4] == "files" {
            return json(["Code": 200, "Data": ["Files": modelScopeFiles(repo)], "Success": true])
        }
        guard let path = query["FilePath"], let file = repo.file(path) else { return notFound }
        return fileReply(file, range: range)
    }

    private func modelScopeFiles(_ repo: HubFakeRepo) -> [[String: Any]] {
        let folders = Set(repo.files.compactMap { $0.path.contains("/") ? String($0.path.split(separator: "/")[0]) : nil })
        let trees: [[String: Any]] = folders.sorted().map { ["Name": $0, "Path": $0, "Type": "tree", "Size": 0, "Revision": repo.commit] }
        return trees + repo.files.map { file in
            ["Name": String(file.path.split(separator: "/").last ?? ""), "Path": file.path, "Type": "blob",
             "Size": file.data.count, "Sha256": file.sha256, "Revision": repo.commit]
        }
    }

    /// The bytes of `file`, honouring `Range: bytes=N-`, corrupted or cut short when asked.
    private func fileReply(_ file: HubFakeFile, range: String?) -> Reply {
        var data = file.data
        if corrupt.contains(file.path), !data.isEmpty { data[data.count - 1] ^= 0xFF }
        var reply = Reply(status: .ok, headers: [("Accept-Ranges", "bytes")], file: file.path)
        var start = 0
        if let range, range.hasPrefix("bytes="), let first = Int(range.dropFirst(6).split(separator: "-").first ?? "") {
            guard first < data.count else {
                return Reply(status: .rangeNotSatisfiable, headers: [("Content-Range", "bytes */\(data.count)")])
            }
            start = first
            reply.status = .partialContent
            reply.headers.append(("Content-Range", "bytes \(first)-\(data.count - 1)/\(data.count)"))
        }
        reply.body = data.subdata(in: start..<data.count)
        let drop = lock.withLock { _dropOnce.contains(file.path) && _dropped.insert(file.path).inserted }
        if drop { reply.dropAfter = reply.body.count / 2 }
        return reply
    }

    func recordBody(_ file: String?, bytes: Int) {
        guard let file else { return }
        lock.withLock { _bodyBytes[file, default: 0] += bytes }
    }

    /// The repository path a download URI asks for.
    static func filePath(of uri: String) -> String? {
        guard let components = URLComponents(string: "http://fake" + uri) else { return nil }
        if let path = components.queryItems?.first(where: { $0.name == "FilePath" })?.value { return path }
        let parts = components.path.split(separator: "/").map(String.init)
        if parts.first == "cdn" { return parts.dropFirst(4).joined(separator: "/") }
        if let resolve = parts.firstIndex(of: "resolve") { return parts.dropFirst(resolve + 2).joined(separator: "/") }
        return nil
    }
}

/// Answers each HTTP/1.1 request of one connection from ``HubFakeServer/reply(to:cdn:)``.
final class HubFakeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: HubFakeServer
    let cdn: Bool
    var head: HTTPRequestHead?

    init(server: HubFakeServer, cdn: Bool) {
        self.server = server
        self.cdn = cdn
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            send(server.reply(to: head, cdn: cdn), keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func send(_ reply: HubFakeServer.Reply, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(reply.headers)
        headers.add(name: "Content-Length", value: String(reply.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        let channel = context.channel
        if let cut = reply.dropAfter {
            let buffer = channel.allocator.buffer(bytes: reply.body.prefix(cut))
            server.recordBody(reply.file, bytes: cut)
            // close a moment after the bytes are out, so that the client has taken them in (a reset would lose them)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer)))).whenComplete { _ in
                channel.eventLoop.scheduleTask(in: .milliseconds(200)) { channel.close(promise: nil) }
            }
            return
        }
        if !reply.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        }
        server.recordBody(reply.file, bytes: reply.body.count)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
