/// A pointer that crosses into a concurrent kernel loop. Kernels write disjoint ranges, so sharing is safe.
struct SendablePointer<Pointee>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Pointee>
    init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }
    subscript(index: Int) -> Pointee {
        get { pointer[index] }
        nonmutating set { pointer[index] = newValue }
    }
}

/// A raw pointer that crosses into a concurrent kernel loop.
struct SendableRawPointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}
