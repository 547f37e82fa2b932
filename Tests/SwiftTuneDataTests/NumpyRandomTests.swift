import Foundation
import Testing
@testable import SwiftTuneData
import SwiftTuneChat
import SwiftTuneJSON

let dataFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/data")
/// The shared datasets (../shared/data from the repository root).
let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")

func checksum(_ perm: [Int]) -> UInt64 {
    let m: UInt64 = (1 << 61) - 1
    var sum: UInt64 = 0
    for (i, p) in perm.enumerated() { sum = (sum + UInt64(p) * UInt64(p) * UInt64(i) % m) % m }
    return sum
}

/// MT19937 / RandomState and PCG64 / default_rng against numpy (scripts/golden/make_numpy_random_goldens.py).
@Suite struct NumpyRandomTests {
    @Test func matchesNumpy() throws {
        let root = try JSONParser.parse(Data(contentsOf: dataFixtures.appendingPathComponent("numpy_random.json")))
        let cases = try #require(root["cases"]?.arrayValue)
        #expect(cases.count == 30)
        func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).compactMap(\.intValue) }
        for c in cases {
            guard let seed = c["seed"]?.intValue, let n = c["n"]?.intValue else { Issue.record("bad case"); continue }
            var rs = NumpyRandomState(seed: UInt32(seed))
            let perm = rs.permutation(Int(n))
            #expect(Array(perm.prefix(50)) == ints(c["permutation_head"]), "seed \(seed) n \(n)")
            #expect(c["checksum"] == .number(JSONNumber(checksum(perm))), "seed \(seed) n \(n)")
            var rs2 = NumpyRandomState(seed: UInt32(seed))
            #expect((0..<3).map { _ in Int(rs2.nextSeed()) } == ints(c["get_seed"]))
            var g = NumpyGenerator(seed: UInt64(seed))
            let gp = g.permutation(Int(n))
            #expect(Array(gp.prefix(50)) == ints(c["default_rng_head"]), "default_rng seed \(seed) n \(n)")
            #expect(c["default_rng_checksum"] == .number(JSONNumber(checksum(gp))))
            if c["sample_below"] != nil {
                var r1 = NumpyRandomState(seed: UInt32(seed))
                #expect(DatasetPipeline.sampleIndices(count: Int(n), sample: max(1, Int(n) / 3), shuffle: true, random: &r1) == ints(c["sample_below"]))
                var r2 = NumpyRandomState(seed: UInt32(seed))
                let above = DatasetPipeline.sampleIndices(count: Int(n), sample: 2 * Int(n) + Int(n) / 2 + 1, shuffle: true, random: &r2)
                #expect(above == ints(c["sample_above"]))
                #expect(Set(above.suffix(Int(n) / 2 + 1)).count == Int(n) / 2 + 1)  // the rest is without replacement
            }
        }
    }

    @Test func sampleWithoutShuffleTakesTheFirstRows() {
        var rs = NumpyRandomState(seed: 42)
        #expect(DatasetPipeline.sampleIndices(count: 4, sample: 6, shuffle: false, random: &rs) == [0, 1, 2, 3, 0, 1])
    }
}
