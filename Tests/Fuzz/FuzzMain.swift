import Foundation
import SwiftTuneFuzzTargets

/// Writes `target`'s hand-written seeds into `folder` as `seed-NAME`; false (with a message) when it cannot.
func writeSeeds(of target: FuzzTarget, into folder: URL) -> Bool {
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for seed in target.builtinSeeds {
            try Data(seed.bytes).write(to: folder.appendingPathComponent("seed-" + seed.name))
        }
        return true
    } catch {
        FileHandle.standardError.write(Data("cannot write the seeds into \(folder.path): \(error)\n".utf8))
        return false
    }
}

#if FUZZING
// Built by scripts/fuzz.sh with `-sanitize=fuzzer,address -DFUZZING`: libFuzzer's main drives these entry points.
// The target is named by SWIFT_TUNE_FUZZ_TARGET (one binary for every target keeps the fuzz build to one link).

/// The target of this process, read once.
nonisolated(unsafe) private var target: FuzzTarget = .json

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The executable's entry point: SwiftPM links an executable target's `main` to `<module>_main`, so libFuzzer's
/// driver is started from here rather than from its own `main`.
@_cdecl("swift_tune_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}

@_silgen_name("LLVMFuzzerMutate")
private func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["SWIFT_TUNE_FUZZ_TARGET"] ?? ""
    guard let chosen = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("SWIFT_TUNE_FUZZ_TARGET=\"\(name)\": expected one of \(names)\n".utf8))
        exit(2)
    }
    target = chosen
    chosen.prepare()
    // scripts/fuzz.sh asks the same binary for the hand-written seeds, so it needs no second build.
    if let folder = ProcessInfo.processInfo.environment["SWIFT_TUNE_FUZZ_WRITE_SEEDS"] {
        exit(writeSeeds(of: chosen, into: URL(fileURLWithPath: folder)) ? 0 : 1)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    if case let .unexpected(message) = target.run(bytes) {
        // A crash, so libFuzzer saves the input: an untyped error or a broken invariant is a bug to fix.
        FileHandle.standardError.write(Data("swift-tune-fuzz \(target.rawValue): unexpected: \(message)\n".utf8))
        abort()
    }
    return 0
}

/// For `gguf`, half the mutations are structure-aware (`GGUFMutator`); the rest, and every other target's, are
/// libFuzzer's own.
@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzerCustomMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    guard target == .gguf, seed & 1 == 0, size > 0 else { return LLVMFuzzerMutate(data, size, maxSize) }
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard GGUFMutator.mutate(&bytes, seed: seed >> 1) else { return LLVMFuzzerMutate(data, size, maxSize) }
    bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: size) }
    return size
}
#else
/// Without `-DFUZZING`: replays inputs (`swift-tune-fuzz TARGET FILE...`: each file's outcome) and writes the
/// built-in seeds (`swift-tune-fuzz --seeds TARGET FOLDER`), for scripts/fuzz.sh and for triage.
@main
struct FuzzReplay {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let writesSeeds = arguments.first == "--seeds"
        if writesSeeds { arguments.removeFirst() }
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            fail("usage: swift-tune-fuzz TARGET FILE... | swift-tune-fuzz --seeds TARGET FOLDER (targets: \(names))")
        }
        if writesSeeds { exit(writeSeeds(of: target, into: URL(fileURLWithPath: arguments[1])) ? 0 : 1) }
        var unexpected = 0
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { fail("\(path): cannot read") }
            let outcome = target.run([UInt8](data))
            switch outcome {
            case .accepted: print("\(path): accepted")
            case let .refused(message): print("\(path): refused: \(message)")
            case let .unexpected(message): print("\(path): UNEXPECTED: \(message)"); unexpected += 1
            }
        }
        exit(unexpected == 0 ? 0 : 1)
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
#endif
