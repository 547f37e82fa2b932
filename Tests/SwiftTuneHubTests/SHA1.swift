import Foundation
import Testing

/// SHA-1 (FIPS 180-4), only for the fake hub: HF lists a non-LFS file by its git blob id, the SHA-1 of
/// "blob <size>\0" + content.
enum SHA1 {
    static func hex(_ message: Data) -> String {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var bytes = [UInt8](message) + [0x80]
        bytes += [UInt8](repeating: 0, count: (64 + 56 - bytes.count % 64) % 64)
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: (UInt64(message.count) * 8) >> (56 - 8 * $0)) }
        func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
        for block in stride(from: 0, to: bytes.count, by: 64) {
            var w = (0..<16).map { t in (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[block + 4 * t + $1]) } }
            for t in 16..<80 { w.append(rotate(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)) }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for t in 0..<80 {
                let (f, k): (UInt32, UInt32) = switch t {
                case 0..<20: ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (b ^ c ^ d, 0xCA62_C1D6)
                }
                (e, d, c, b, a) = (d, c, rotate(b, 30), a, rotate(a, 5) &+ f &+ e &+ k &+ w[t])
            }
            h = [h[0] &+ a, h[1] &+ b, h[2] &+ c, h[3] &+ d, h[4] &+ e]
        }
        return h.map { String(format: "%08x", $0) }.joined()
    }
}

struct SHA1Tests {
    @Test func standardExamplesAndGitBlobIDs() {
        #expect(SHA1.hex(Data("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(HubFakeFile(path: "empty", data: Data(), lfs: false).gitBlobID == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
        #expect(HubFakeFile(path: "hello", data: Data("hello\n".utf8), lfs: false).gitBlobID
            == "ce013625030ba8dba906f756967f9e9ca394464a")
    }
}
