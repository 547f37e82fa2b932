/// Which adapter group steps next: the requests of one adapter step together (the adapter is attached to the shared
/// base for that step), and the groups present take turns, in order of first appearance.
struct AdapterTurns {
    private var turn = 0

    /// The adapter whose sequences step next, among those of `sequences` (at least one).
    mutating func next(_ sequences: [GenerationSequence]) -> String? {
        var groups: [String?] = []
        for sequence in sequences where !groups.contains(sequence.request.adapter) {
            groups.append(sequence.request.adapter)
        }
        defer { turn += 1 }
        return groups[turn % groups.count]
    }
}
