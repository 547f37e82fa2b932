import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneTensor
@testable import SwiftTuneEngine

/// Prefix caching: requests that share leading full blocks take the cached blocks instead of computing them, and
/// answer exactly as without the cache; cached blocks outlive their request, are evicted oldest first, and are
/// never reached through a block that was reused for other tokens.
@Suite("Prefix cache")
struct PrefixCacheTests {
    /// A shared "system prompt" of 40 tokens, then different questions.
    static let shared: [Int32] = (0..<40).map { Int32(3 + ($0 * 7) % 250) }
    static let questions: [[Int32]] = [[11, 12, 13], [200, 201], [77, 78, 79, 80, 81], [5]]

    static func requests(_ config: GenerationConfig = GenerationConfig(maxNewTokens: 8)) -> [GenerationRequest] {
        questions.map { GenerationRequest(promptIDs: shared + $0, config: config) }
    }

    @Test func sharedPrefixesAreReusedAndTheAnswersDoNotChange() throws {
        let sampled = GenerationConfig(maxNewTokens: 8, temperature: 0.9, topK: 30, seed: 3)
        for config in [GenerationConfig(maxNewTokens: 8), sampled] {
            let plain = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 128, blockSize: 8))
            let cached = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 128, blockSize: 8,
                                                               prefixCaching: true))
            let expected = try plain.generate(Self.requests(config)).map(\.tokenIDs)
            let got = try cached.generate(Self.requests(config)).map(\.tokenIDs)
            for (index, tokens) in got.enumerated() { expectSameTokens(tokens, expected[index], "request \(index)") }
            // The first two are admitted together and compute the prefix; the next two find its 5 full blocks.
            #expect(cached.prefixCacheCounts.cachedTokens == 2 * 40, "\(cached.prefixCacheCounts)")
            #expect(plain.prefixCacheCounts.cachedTokens == 0)
            // Finished requests leave their blocks cached: a second round finds the prefix for every request.
            let again = try cached.generate(Self.requests(config)).map(\.tokenIDs)
            #expect(again == expected)
            #expect(cached.prefixCacheCounts.cachedTokens == 6 * 40, "\(cached.prefixCacheCounts)")
            let blocks = cached.cacheBlocks
            #expect(blocks.free == blocks.total, "every block is back in the pool (cached or free): \(blocks)")
        }
    }

    /// A conversation's next turn starts with the whole previous turn, its answer included.
    @Test func aFollowUpTurnReusesTheEarlierTurnAndItsAnswer() throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 1, maxModelLength: 128, blockSize: 4, prefixCaching: true))
        let first = try engine.generate([GenerationRequest(promptIDs: Self.shared, config: GenerationConfig(maxNewTokens: 9))])[0]
        let followUp = Self.shared + first.tokenIDs + [50, 51, 52]
        let before = engine.prefixCacheCounts.cachedTokens
        let answer = try engine.generate([GenerationRequest(promptIDs: followUp, config: GenerationConfig(maxNewTokens: 6))])[0]
        // 40 prompt + 9 answer tokens: the answer's last token was never fed back, so 48 are cached: 12 blocks.
        #expect(engine.prefixCacheCounts.cachedTokens - before == 48)
        let plain = try makeEngine(options: EngineOptions(maxBatchSize: 1, maxModelLength: 128, blockSize: 4))
        let expected = try plain.generate([GenerationRequest(promptIDs: followUp, config: GenerationConfig(maxNewTokens: 6))])[0]
        expectSameTokens(answer.tokenIDs, expected.tokenIDs, "follow-up turn")
    }

    /// A cache too small to keep everything evicts the oldest cached blocks (and what chains from them); the
    /// answers stay those of an engine without prefix caching.
    @Test func evictionUnderPressureKeepsTheAnswersRight() throws {
        // One request at a time, so the second of each round finds the first's prefix; 16 blocks hold two rounds.
        let options = EngineOptions(maxBatchSize: 1, maxModelLength: 64, blockSize: 4, cacheTokens: 64)
        var withCache = options
        withCache.prefixCaching = true
        let plain = try makeEngine(options: options)
        let cached = try makeEngine(options: withCache)
        var rows: [GenerationRequest] = []
        for round in 0..<6 {
            let prefix = (0..<20).map { Int32(5 + (round * 31 + $0 * 3) % 240) }
            rows += [GenerationRequest(promptIDs: prefix + [9, 8], config: GenerationConfig(maxNewTokens: 6)),
                     GenerationRequest(promptIDs: prefix + [7], config: GenerationConfig(maxNewTokens: 6))]
        }
        rows += rows.prefix(4)  // the first rounds again, long evicted
        let expected = try plain.generate(rows).map(\.tokenIDs)
        let got = try cached.generate(rows).map(\.tokenIDs)
        for (index, tokens) in got.enumerated() { expectSameTokens(tokens, expected[index], "request \(index)") }
        #expect(cached.prefixCacheCounts.cachedTokens >= 6 * 20, "\(cached.prefixCacheCounts)")
        #expect(cached.cacheBlocks.free == cached.cacheBlocks.total)
    }

    /// After the weights change, `clearPrefixCache` forgets every cached block, so nothing stale is reused.
    @Test func clearingForgetsEveryCachedBlock() throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 128, blockSize: 8, prefixCaching: true))
        _ = try engine.generate(Self.requests())
        let before = engine.prefixCacheCounts.cachedTokens
        engine.clearPrefixCache()
        _ = try engine.generate([Self.requests()[0]])
        #expect(engine.prefixCacheCounts.cachedTokens == before, "a cleared cache finds nothing")
    }

    /// The pool's bookkeeping on its own: shared blocks count their holders, a chain is reached only through
    /// registered parents, and eviction frees a block's registered children too.
    @Test func blockPoolBookkeeping() throws {
        let model = try DecoderModel.load(directory: qwen2Folder, backend: CPUBackend(threadCount: 1))
        let cache = KVCache(storage: try model.makeKVCacheStorage(blockCount: 4, blockSize: 2))
        let a = try #require(cache.allocateBlocks(2))
        #expect(cache.register(a[0], tokens: [1, 2], after: nil, adapter: nil) == a[0])
        #expect(cache.register(a[1], tokens: [3, 4], after: a[0], adapter: nil) == a[1])
        #expect(cache.register(a[1], tokens: [3, 4], after: 99, adapter: nil) == nil, "an unregistered parent")
        #expect(cache.takeCachedPrefix([[1, 2], [3, 4]], adapter: "other").isEmpty, "another adapter's prefix")
        let shared = cache.takeCachedPrefix([[1, 2], [3, 4], [5, 6]], adapter: nil)
        #expect(shared == a)
        cache.release(a)
        #expect(cache.freeBlockCount == 2, "still held by the second taker")
        cache.release(shared)
        #expect(cache.freeBlockCount == 4 && cache.cachedBlockCount == 2)
        // Taking all four evicts the cached ones; the chain is gone with its first block.
        let all = try #require(cache.allocateBlocks(4))
        #expect(Set(all).count == 4 && cache.cachedBlockCount == 0)
        #expect(cache.takeCachedPrefix([[1, 2]], adapter: nil).isEmpty)
        cache.release(all)
        #expect(cache.freeBlockCount == 4)
    }
}
