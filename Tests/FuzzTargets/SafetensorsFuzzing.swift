import Foundation
@testable import SwiftTuneCheckpoint
import SwiftTuneCPU

/// The `safetensors` target. The first byte picks the file: even, the rest is a `.safetensors` file (header
/// checked, every tensor of a loadable dtype uploaded to the CPU backend); odd, the rest is a
/// `model.safetensors.index.json`.
enum SafetensorsFuzzing {
    static let url = URL(fileURLWithPath: "/fuzz/model.safetensors")
    static let backend = CPUBackend(useBLAS: false, threadCount: 1)

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard let selector = bytes.first else { return .accepted }
        let rest = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        return FuzzErrors.run {
            if selector & 1 == 1 {
                let index = try ShardIndex(json: Data(rest), path: "/fuzz/" + ShardIndex.fileName)
                guard index.weightMap.values.allSatisfy({ !$0.contains("/") }) else {
                    return .unexpected("the index accepted a shard path outside the folder")
                }
                return .accepted
            }
            let file = try SafetensorsFile(contents: rest, url: url)
            for info in file.infos {
                let sizes = info.shape.reduce((1, false)) { product, size in
                    let next = product.0.multipliedReportingOverflow(by: max(size, 1))
                    return (next.partialValue, product.1 || next.overflow)
                }
                if sizes.1 { return .unexpected("tensor \(info.name): accepted shape \(info.shape) overflows") }
            }
            for info in file.infos where info.dtype.tensorDType != nil {
                let tensor = try file.tensor(info.name, on: backend)
                guard tensor.shape == info.shape else {
                    return .unexpected("tensor \(info.name): shape \(tensor.shape), header says \(info.shape)")
                }
            }
            return .accepted
        }
    }

    /// A small valid file with two tensors, and overflowing shapes (0 first, then a product past 2^64).
    static var seeds: [(name: String, bytes: [UInt8])] {
        func file(_ header: String, data: Int) -> [UInt8] {
            var length = UInt64(header.utf8.count).littleEndian
            return [0] + withUnsafeBytes(of: &length) { Array($0) } + Array(header.utf8) + [UInt8](repeating: 0, count: data)
        }
        return [
            ("two-tensors", file(#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"__metadata__":{"format":"pt"}}"#, data: 22)),
            ("zero-then-overflow", file(#"{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#, data: 0)),
            ("shape-overflow", file(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, data: 0)),
            ("index", [1] + Array(#"{"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors"}}"#.utf8)),
        ]
    }
}
