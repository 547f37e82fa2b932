import Foundation
import SwiftTuneTensor
import Testing
@testable import SwiftTuneCheckpoint

/// SHA-256 against FIPS 180-4's examples and coreutils' `sha256sum`, whole and in pieces.
struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ])
    func standardExamples(message: String, digest: String) {
        #expect(SHA256.hex(Array(message.utf8)) == digest, "message of \(message.utf8.count) bytes")
    }

    @Test func piecesGiveTheSameDigestAsTheWhole() {
        var generator = SeededGenerator(seed: 11)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = SHA256.hex(bytes)
        for _ in 0..<20 {
            var hasher = SHA256()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 0...150, using: &generator))
                hasher.update(Data(bytes[start..<end]))
                start = end
            }
            #expect(hasher.finalizeHex() == whole)
        }
        // every length around the padding boundaries
        for length in 50...130 {
            var hasher = SHA256()
            hasher.update(bytes.prefix(length / 2))
            hasher.update(bytes[length / 2..<length])
            #expect(hasher.finalizeHex() == SHA256.hex(Array(bytes.prefix(length))), "length \(length)")
        }
    }

    @Test func agreesWithSha256sum() throws {
        var generator = SeededGenerator(seed: 12)
        let bytes = Data((0..<(1 << 20) + 77).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString).bin")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let reference = try #require(output.split(separator: " ").first.map(String.init))
        #expect(SHA256.hex(bytes) == reference)
    }
}
