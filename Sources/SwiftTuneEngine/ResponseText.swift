import SwiftTuneTokenizers

/// Turns one answer's token ids into text deltas for streaming, and ends it at a stop string.
///
/// Ids go through a `StreamingDecoder`, so no delta holds half a UTF-8 character. Text that could be the start of
/// a stop string is held back until the next tokens show whether it is one, so a stop string split over several
/// tokens is found and never printed; the answer ends right before it. The deltas concatenate to `text`.
struct ResponseText: Sendable {
    private var decoder: StreamingDecoder
    private let stopStrings: [[UInt8]]
    /// Decoded but not yet emitted: a possible stop-string start (UTF-8).
    private var held: [UInt8] = []
    /// Everything emitted so far.
    private(set) var text = ""
    /// Whether a stop string ended the answer.
    private(set) var stopped = false

    init(tokenizer: Tokenizer, stopStrings: [String]) {
        decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: false)
        self.stopStrings = stopStrings.map { Array($0.utf8) }
    }

    /// Adds a generated id; returns the text that is now safe to show (empty when none) and sets `stopped` when a
    /// stop string appeared.
    mutating func append(_ id: Int32) -> String {
        guard !stopped, let chunk = decoder.append(id) else { return "" }
        held += chunk.utf8
        if let cut = earliestStop() {
            stopped = true
            return emit(Array(held[..<cut]), keep: [])
        }
        // Hold back the longest end of the text that a stop string starts with.
        var keep = 0
        for stop in stopStrings {
            for length in stride(from: min(stop.count - 1, held.count), to: keep, by: -1)
            where held.suffix(length).elementsEqual(stop.prefix(length)) {
                keep = length
                break
            }
        }
        return emit(Array(held.dropLast(keep)), keep: Array(held.suffix(keep)))
    }

    /// The text still held back (the answer ended without a stop string: a stop-string prefix that never
    /// completed, an incomplete character at the end).
    mutating func finish() -> String {
        guard !stopped else { return "" }
        if let rest = decoder.finish() { held += rest.utf8 }
        if let cut = earliestStop() {
            stopped = true
            return emit(Array(held[..<cut]), keep: [])
        }
        return emit(held, keep: [])
    }

    /// Where the first stop string in the held text starts.
    private func earliestStop() -> Int? {
        var cut: Int?
        for stop in stopStrings {
            if let index = Self.firstIndex(of: stop, in: held), index < (cut ?? .max) { cut = index }
        }
        return cut
    }

    private mutating func emit(_ bytes: [UInt8], keep: [UInt8]) -> String {
        held = keep
        let delta = String(decoding: bytes, as: UTF8.self)
        text += delta
        return delta
    }

    /// Start of the first occurrence of `needle` in `haystack`.
    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
