import ArgumentParser
import Foundation
import SwiftTuneBackendCheck
import SwiftTuneCUDA
import SwiftTuneTensor

/// `swift-tune benchmark`: throughput of single kernels on a device, for docs/benchmarks.md (the training and
/// inference benchmarks are the scripts under scripts/gpu, which run the real commands).
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Time single kernels on a device (GPU time from CUDA events).",
        subcommands: [AttentionBenchmarkCommand.self])
}

/// `swift-tune benchmark attention`: causal attention forward and backward, median of CUDA-event-timed runs.
struct AttentionBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Causal attention forward + backward TFLOP/s (FlashAttention's FLOP count) at each --tokens.")

    @Option(help: "The device: cuda (default), cpu or cpu-portable.")
    var device: String = "cuda"
    @Option(parsing: .upToNextOption, help: "Sequence lengths (one sequence each).")
    var tokens: [Int] = [2048, 8192]
    @Option(help: "Query heads.")
    var heads = 28
    @Option(help: "Key-value heads.")
    var kvHeads = 4
    @Option(help: "Head dimension.")
    var headDim = 128
    @Option(help: "bfloat16 or float32.")
    var dtype = "bfloat16"
    @Option(help: "Timed runs per measurement (the median is reported).")
    var repeats = 20

    func validate() throws {
        guard DeviceChoice(rawValue: device) != nil else {
            throw ValidationError("--device \(device): expected one of \(DeviceChoice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ["bfloat16", "float32"].contains(dtype) else {
            throw ValidationError("--dtype \(dtype): expected bfloat16 or float32")
        }
        guard tokens.allSatisfy({ $0 > 0 }), heads > 0, kvHeads > 0, heads % kvHeads == 0, headDim > 0, repeats > 0 else {
            throw ValidationError("--tokens, --heads, --kv-heads, --head-dim and --repeats must be positive, "
                                  + "and --heads a multiple of --kv-heads (got \(heads) and \(kvHeads))")
        }
    }

    func run() throws {
        guard let choice = DeviceChoice(rawValue: device) else { throw ValidationError("--device \(device): unknown") }
        let backend = try choice.makeBackend()
        let time: (() throws -> Void) throws -> Double
        if let cuda = backend as? CUDABackend {
            time = { body in try cuda.timeOnStream(body) }
        } else {
            time = { body in
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                try backend.synchronize()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
        }
        for length in tokens {
            let benchmark = AttentionBenchmark(tokens: length, queryHeads: heads, keyValueHeads: kvHeads,
                                               headDim: headDim, dtype: dtype == "float32" ? .f32 : .bf16,
                                               repeats: repeats)
            print("RESULT \(backend.name) \(try benchmark.run(on: backend, time: time))")
        }
    }
}
