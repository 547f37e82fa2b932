import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SwiftTuneGeneration
@testable import SwiftTuneServer
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client on loopback, to hang up in the middle of a response as a real client does.
struct LoopbackSocket {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0, "socket: errno \(errno)")
        var timeout = timeval(tv_sec: 30, tv_usec: 0)  // no read waits longer
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect to 127.0.0.1:\(port): errno \(errno)")
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads until `needle` has arrived (or the connection ends or a read times out); returns what was read.
    func read(until needle: String) -> String {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains(needle) {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

@Suite("Client disconnects, on a real socket")
struct ServerDisconnectTests {
    /// A streaming client that hangs up after the first tokens stops its generation: the scheduler counts it
    /// cancelled, frees its blocks, and it produced far fewer tokens than it asked for.
    @Test(.timeLimit(.minutes(2))) func aClientThatHangsUpStopsItsGeneration() async throws {
        let model = try makeServedModel(maxBatchSize: 1)
        let body = #"{"model": "qwen2", "prompt": "Once upon a time", "max_tokens": 100, "temperature": 0, "stream": true}"#
        // The same request to the end: it runs all 100 tokens, so only a cancellation can stop it early.
        let plan = try TextCompletions.plan(Data(body.utf8), model: model).1
        let reference = try await plan.submit()[0]
        var finished: GenerationResult?
        for await update in reference { if case let .finished(result) = update { finished = result } }
        try #require(finished?.finishReason == .length, "the prompt must run to max_tokens for this test")
        var settled = model.scheduler.currentStatistics
        while settled.finished < 1 || settled.running > 0 {  // the counters follow the stream's end closely
            try await Task.sleep(for: .milliseconds(5))
            settled = model.scheduler.currentStatistics
        }
        let before = settled

        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, logInterval: 0)
        try await withServer(model, configuration: configuration, setup: .live) { client in
            let port = try #require(client.port)
            let socket = try LoopbackSocket(port: port)
            socket.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let received = socket.read(until: "\"text\"")
            #expect(received.hasPrefix("HTTP/1.1 200") && received.contains("data: {"), "\(received)")
            socket.close()
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let statistics = model.scheduler.currentStatistics
                if statistics.cancelled > before.cancelled || statistics.finished > before.finished { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let after = model.scheduler.currentStatistics
            #expect(after.cancelled == before.cancelled + 1 && after.finished == before.finished, "\(after)")
            #expect(after.generatedTokens - before.generatedTokens < 100, "stopped early: \(after.generatedTokens - before.generatedTokens) tokens")
            #expect(after.running == 0 && after.waiting == 0)
        }
        #expect(model.inference.engine.cache.freeBlockCount == model.inference.engine.cache.blockCount)
    }
}
