/// How a split pattern's matches become pieces (HF `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// Metaspace's `prepend_scheme`.
enum PrependScheme: String, Sendable {
    case always, first, never
}

/// One step of an HF `pre_tokenizer` (a `Sequence` is a list of steps).
enum PreTokenizerStep: Sendable {
    /// `Split`: a pattern, what to do with its matches, and whether to split on the non-matches instead.
    case split(PatternScanner, SplitBehavior, invert: Bool)
    /// `ByteLevel`: optionally a leading space, then (with `use_regex`) a split on the GPT-2 regex. The mapping of
    /// bytes to the byte-level alphabet is left to the BPE model, which works on raw bytes.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// `Digits`: each digit alone, or runs of digits, isolated.
    case digits(individualDigits: Bool)
    /// `Metaspace`: spaces become `replacement`, which is prepended per `prependScheme`; with `split`, each
    /// piece starts at a `replacement`.
    case metaspace(replacement: [UInt8], prependScheme: PrependScheme, split: Bool)
    /// `WhitespaceSplit`: pieces are the runs of non-whitespace.
    case whitespaceSplit
}

/// Runs the pre-tokenizer steps on one normalized piece of text and hands each final piece to `emit`.
struct PreTokenizer: Sendable {
    let steps: [PreTokenizerStep]

    /// `isFirst`: the piece starts the input text (Metaspace's `first` scheme prepends only there).
    func run(_ text: UnsafeBufferPointer<UInt8>, isFirst: Bool, emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        run(step: 0, text, 0..<text.count, isFirst: isFirst, emit: emit)
    }

    private func run(step index: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, isFirst: Bool,
                     emit: (UnsafeBufferPointer<UInt8>) -> Void)
    {
        if range.isEmpty { return }
        guard index < steps.count else {
            emit(UnsafeBufferPointer(rebasing: bytes[range]))
            return
        }
        func next(_ start: Int, _ end: Int) {
            run(step: index + 1, bytes, start..<end, isFirst: isFirst && start == range.lowerBound, emit: emit)
        }
        switch steps[index] {
        case let .split(pattern, behavior, invert):
            Self.split(bytes, range, pattern: pattern, behavior: behavior, invert: invert, next)
        case let .byteLevel(addPrefixSpace, useRegex):
            if addPrefixSpace && bytes[range.lowerBound] != 0x20 {
                var spaced: [UInt8] = [0x20]
                spaced.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
                spaced.withUnsafeBufferPointer { spaced in
                    let all = 0..<spaced.count
                    if useRegex {
                        PatternScanner.gpt2.forEachSpan(spaced, all) { start, end, _ in
                            self.run(step: index + 1, spaced, start..<end, isFirst: isFirst && start == 0, emit: emit)
                        }
                    } else {
                        self.run(step: index + 1, spaced, all, isFirst: isFirst, emit: emit)
                    }
                }
            } else if useRegex {
                PatternScanner.gpt2.forEachSpan(bytes, range) { start, end, _ in next(start, end) }
            } else {
                next(range.lowerBound, range.upperBound)
            }
        case let .digits(individual):
            Self.digits(bytes, range, individual: individual, next)
        case let .metaspace(replacement, scheme, split):
            var replaced: [UInt8] = []
            let prepend = scheme == .always || (scheme == .first && isFirst)
            var starts = true
            if replacement.count <= range.count {
                starts = bytes[range.lowerBound..<range.lowerBound + replacement.count].elementsEqual(replacement)
            } else {
                starts = false
            }
            if prepend && !starts && bytes[range.lowerBound] != 0x20 { replaced.append(contentsOf: replacement) }
            for i in range {
                if bytes[i] == 0x20 { replaced.append(contentsOf: replacement) } else { replaced.append(bytes[i]) }
            }
            replaced.withUnsafeBufferPointer { replaced in
                let all = 0..<replaced.count
                if split {
                    Self.split(replaced, all, pattern: .literal(replacement), behavior: .mergedWithNext, invert: false) {
                        self.run(step: index + 1, replaced, $0..<$1, isFirst: isFirst && $0 == 0, emit: emit)
                    }
                } else {
                    self.run(step: index + 1, replaced, all, isFirst: isFirst, emit: emit)
                }
            }
        case .whitespaceSplit:
            var start = -1
            var i = range.lowerBound
            while i < range.upperBound {
                let (value, length) = UTF8Scalar.decode(bytes, at: i)
                if ScalarClass.of(value).contains(.whitespace) {
                    if start >= 0 { next(start, i) }
                    start = -1
                } else if start < 0 {
                    start = i
                }
                i += length
            }
            if start >= 0 { next(start, range.upperBound) }
        }
    }

    /// Applies a split behavior to the spans of a pattern (HF `NormalizedString::split`).
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, pattern: PatternScanner,
                      behavior: SplitBehavior, invert: Bool, _ emit: (Int, Int) -> Void)
    {
        if behavior == .isolated {
            pattern.forEachSpan(bytes, range) { start, end, _ in emit(start, end) }
            return
        }
        var pendingStart = -1  // start of a piece still open (merged with what follows)
        var previousEnd = range.lowerBound
        var lastWasMatch = false
        pattern.forEachSpan(bytes, range) { start, end, isMatchRaw in
            let isMatch = isMatchRaw != invert
            switch behavior {
            case .isolated:
                emit(start, end)
            case .removed:
                if !isMatch { emit(start, end) }
            case .mergedWithPrevious:
                if isMatch {
                    emit(pendingStart >= 0 ? pendingStart : start, end)
                    pendingStart = -1
                } else {
                    if pendingStart >= 0 { emit(pendingStart, previousEnd) }
                    pendingStart = start
                }
            case .mergedWithNext:
                if isMatch {
                    if pendingStart >= 0 { emit(pendingStart, previousEnd) }
                    pendingStart = start
                } else {
                    emit(pendingStart >= 0 ? pendingStart : start, end)
                    pendingStart = -1
                }
            case .contiguous:
                if isMatch && lastWasMatch && pendingStart >= 0 {
                    // extend the open run of matches
                } else {
                    if pendingStart >= 0 { emit(pendingStart, previousEnd) }
                    pendingStart = start
                }
            }
            lastWasMatch = isMatch
            previousEnd = end
        }
        if pendingStart >= 0 { emit(pendingStart, previousEnd) }
    }

    /// HF `Digits`: digits (Unicode `N`) isolated from the rest, one by one or as runs.
    static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, individual: Bool,
                       _ emit: (Int, Int) -> Void)
    {
        var start = range.lowerBound
        var inDigits = false
        var i = range.lowerBound
        while i < range.upperBound {
            let b = bytes[i]
            let (isDigit, length): (Bool, Int)
            if b < 0x80 {
                (isDigit, length) = (b >= 0x30 && b <= 0x39, 1)
            } else {
                let (value, scalarLength) = UTF8Scalar.decode(bytes, at: i)
                (isDigit, length) = (ScalarClass.of(value).contains(.number), scalarLength)
            }
            if isDigit {
                if individual || !inDigits {
                    if start < i { emit(start, i) }
                    start = i
                }
                inDigits = true
                if individual {
                    emit(i, i + length)
                    start = i + length
                }
            } else if inDigits {
                if start < i { emit(start, i) }
                start = i
                inDigits = false
            }
            i += length
        }
        if start < range.upperBound { emit(start, range.upperBound) }
    }
}
