import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwiftTuneServer
@testable import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneCPU
import NIOCore
import NIOEmbedded
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client on loopback, to hang up in the middle of a response as a real client does.
struct LoopbackSocket: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0, "socket: errno \(errno)")
        var timeout = timeval(tv_sec: 90, tv_usec: 0)  // no read waits longer
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

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

@Suite("Client disconnects, on a real socket")
struct ServerDisconnectTests {
    /// A keep-alive connection carries many requests: the watch keeps one entry per open connection, none per
    /// finished request (a close callback per request held memory until the connection closed: seen in the load
    /// check as RSS growing with the requests per connection), and runs what is in flight when it closes.
    @Test func theDisconnectWatchHoldsNothingPerFinishedRequest() async throws {
        let watch = DisconnectWatch()
        let channel = EmbeddedChannel()
        for _ in 0..<1000 { watch.add(channel) {}.remove() }
        #expect(watch.counts == (connections: 1, requests: 0))
        let fired = Counter()
        _ = watch.add(channel) { fired.increment() }
        _ = watch.add(channel) { fired.increment() }
        #expect(watch.counts == (connections: 1, requests: 2))
        try await channel.close()
        channel.embeddedEventLoop.run()
        #expect(fired.value == 2 && watch.counts == (connections: 0, requests: 0), "\(fired.value) \(watch.counts)")
    }

    /// A streaming client that hangs up after the first token stops its generation: the scheduler counts it
    /// cancelled and frees its blocks long before its 100 tokens. The scheduler is held by a gate and stepped one
    /// pass at a time while the test waits, so how far it gets does not depend on the machine's load.
    @Test(.timeLimit(.minutes(3))) func aClientThatHangsUpStopsItsGeneration() async throws {
        let body = #"{"model": "qwen2", "prompt": "Once upon a time", "max_tokens": 100, "temperature": 0, "stream": true}"#
        // The same request to the end runs all 100 tokens, so only a cancellation can stop it early.
        let free = try makeServedModel(maxBatchSize: 1)
        var finished: GenerationResult?
        for await update in try await TextCompletions.plan(Data(body.utf8), model: free).1.submit()[0] {
            if case let .finished(result) = update { finished = result }
        }
        await free.scheduler.shutdown(gracePeriod: .zero)
        try #require(finished?.finishReason == .length, "the prompt must run to max_tokens for this test")

        let inference = try Inference.load(serveOptions(maxBatchSize: 1).inference, backend: CPUBackend(threadCount: 2))
        let gate = StepGate()
        let scheduler = BatchScheduler(engine: inference.engine, options: SchedulerOptions(), gate: gate)
        let model = ServedModel(inference: inference, name: "qwen2", scheduler: scheduler)
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, logInterval: 0)
        try await withServer(model, configuration: configuration, setup: .live) { client in
            let port = try #require(client.port)
            let socket = try LoopbackSocket(port: port)
            socket.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let deadline = ContinuousClock.now + .seconds(120)
            while scheduler.incomingCount == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
            gate.allow(1)  // take the request in and sample its first token
            // The blocking read runs on its own thread: on the concurrency pool it would hold one of the (here two)
            // threads the server's handler needs to answer.
            let received = try await ModelService.onThread { socket.read(until: "\"text\"") }
            #expect(received.hasPrefix("HTTP/1.1 200") && received.contains("data: {"), "\(received)")
            socket.close()
            var passes = 1
            while scheduler.currentStatistics.cancelled == 0, passes < 150, ContinuousClock.now < deadline {
                gate.allow(1)  // one more pass (at most one more token) until the hang-up reaches the scheduler
                passes += 1
                try await Task.sleep(for: .milliseconds(10))
            }
            gate.open()
            let after = scheduler.currentStatistics
            #expect(after.cancelled == 1 && after.finished == 0, "\(after)")
            #expect(after.generatedTokens < 100, "stopped early: \(after.generatedTokens) tokens")
        }
        #expect(inference.engine.cacheBlocks.free == inference.engine.cacheBlocks.total)
    }
}
