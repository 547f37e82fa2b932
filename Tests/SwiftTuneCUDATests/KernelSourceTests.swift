import Foundation
import Testing
@testable import SwiftTuneCUDA
import SwiftTuneTensor

/// The embedded kernel modules and the compiled-kernel cache, checked without a GPU.
@Suite struct KernelSourceTests {
    let header = String(decoding: KernelModule.header, as: UTF8.self)

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func everyLaunchedKernelIsInItsModulesSource() {
        for module in KernelModule.allCases {
            let names = KernelSource.kernelNames(in: text(module.source))
            #expect(!names.isEmpty, "\(module.fileName) defines no kernel")
            #expect(Set(names).count == names.count, "duplicate kernel names in \(module.fileName): \(names)")
            let launched = module.functions.flatMap(\.symbols)
            for function in module.functions {
                #expect(function.module == module, "\(function.name) is listed for \(module) but says \(function.module)")
            }
            for symbol in launched {
                #expect(names.contains(symbol), "\(module.fileName) lacks extern \"C\" __global__ void \(symbol)")
            }
            // And nothing in the source is dead: every kernel there is launched from Swift.
            #expect(Set(names) == Set(launched), "\(module.fileName): \(Set(names).symmetricDifference(launched))")
        }
    }

    @Test func everyModuleIncludesTheSharedHeaderAndDefinesNoKernelOfAnother() {
        var owner: [String: KernelModule] = [:]
        for module in KernelModule.allCases {
            #expect(text(module.source).contains("#include \"\(KernelModule.headerName)\""), "\(module.fileName)")
            for name in KernelSource.kernelNames(in: text(module.source)) {
                #expect(owner[name] == nil, "\(name) is in \(module.fileName) and \(owner[name]?.fileName ?? "")")
                owner[name] = module
            }
        }
        #expect(KernelSource.kernelNames(in: header).isEmpty, "the header defines kernels")
    }

    @Test func kernelsAreNamedByModuleFunctionAndDType() throws {
        let kernel = try KernelFunction.rmsNorm.kernel(.f32)
        #expect(kernel.symbol == "rms_norm_f32")
        #expect(kernel.module == .layers)
        #expect(kernel.description == "layers.cu:rms_norm_f32")
        #expect(try KernelFunction.castFloat.kernel(nil).symbol == "cast_float")
        #expect(KernelFunction(.layers, "rms_norm", dtypes: [.f32, .bf16]).symbols == ["rms_norm_f32", "rms_norm_bf16"])
        #expect(try KernelFunction.rmsNorm.kernel(.bf16).symbol == "rms_norm_bf16")
        #expect(try KernelFunction.sumRowsIntoStorage.kernel(.bf16).symbol == "sum_rows_into_bf16")
        #expect(throws: TensorError.self) { try KernelFunction.rmsNorm.kernel(.f16) }
        #expect(throws: TensorError.self) { try KernelFunction.sumRowsIntoStorage.kernel(.f32) }
        #expect(throws: TensorError.self) { try KernelFunction.rmsNorm.kernel(nil) }
        #expect(throws: TensorError.self) { try KernelFunction.castFloat.kernel(.f32) }
    }

    @Test func kernelNameParsingHandlesSpacing() {
        let text = "extern \"C\" __global__ void first(int a)\nextern  \"C\"\n__global__   void second_f32()\n"
            + "__device__ void helper()\n"
        #expect(KernelSource.kernelNames(in: text) == ["first", "second_f32"])
    }

    @Test func constantsSharedWithTheSourceAgree() {
        #expect(KernelSource.integerDefine("MAX_HEAD_DIM", in: header) == KernelSource.maximumHeadDimension)
        #expect(KernelSource.integerDefine("MAX_ATTENTION_BLOCK", in: header) == KernelLimits.attentionBlock(headDim: 256))
        let source = text(KernelModule.memory.source)
        #expect(KernelSource.integerDefine("TYPE_F32", in: source).map(Int32.init) == CUDABackend.castCode(.f32))
        #expect(KernelSource.integerDefine("TYPE_F64", in: source).map(Int32.init) == CUDABackend.castCode(.f64))
        #expect(KernelSource.integerDefine("TYPE_BF16", in: source).map(Int32.init) == CUDABackend.castCode(.bf16))
        #expect(KernelSource.integerDefine("TYPE_F16", in: source).map(Int32.init) == CUDABackend.castCode(.f16))
        #expect(CUDABackend.castCode(.i32) == nil)
    }

    @Test func cacheFileNameChangesWithSourceHeaderArchitectureVersionAndOptions() {
        let (bytes, header) = (KernelModule.layers.source, KernelModule.header)
        let options = KernelLibrary.compilerOptions(architecture: "sm_90")
        func name(module: String = "layers", source: [UInt8]? = nil, header: [UInt8]? = nil, architecture: String = "sm_90",
                  version: (major: Int32, minor: Int32) = (13, 0), options extra: [String] = []) -> String {
            KernelCache.fileName(module: module, source: source ?? bytes, header: header ?? KernelModule.header,
                                 architecture: architecture, nvrtcVersion: version, options: options + extra)
        }
        let base = name()
        #expect(base.hasPrefix("layers-sm_90-nvrtc13.0-"))
        #expect(base.hasSuffix(".cubin"))
        #expect(base == name())
        let variants = [
            name(source: bytes + [0x20]), name(header: header + [0x20]), name(architecture: "sm_80"),
            name(version: (13, 1)), name(options: ["-G"]),
            // Bytes moved from the end of the source to the start of the header are another compilation.
            name(source: Array(bytes.dropLast()), header: [bytes.last ?? 0] + header),
        ]
        for variant in variants { #expect(variant != base) }
        // The hash part alone differs too, not only the readable prefix.
        let hash = { (name: String) in name.split(separator: "-").last.map(String.init) ?? "" }
        #expect(Set(variants.map(hash) + [hash(base)]).count == variants.count + 1)
        // Each module has its own file (its own hash), so editing one recompiles only that one.
        let files = KernelModule.allCases.map { module in
            KernelCache.fileName(module: module.rawValue, source: module.source, header: header, architecture: "sm_90",
                                 nvrtcVersion: (13, 0), options: options)
        }
        #expect(Set(files).count == KernelModule.allCases.count)
        #expect(Set(files.map(hash)).count == KernelModule.allCases.count)
    }

    @Test func cacheDirectoryFollowsXDG() {
        #expect(KernelCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])
            == "/c/swift-tune/kernels")
        #expect(KernelCache.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.cache/swift-tune/kernels")
        #expect(KernelCache.defaultDirectory(environment: [:]) == nil)
    }

    @Test func cacheStoresAndLoadsAtomically() throws {
        let directory = NSTemporaryDirectory() + "swift-tune-kernel-cache-\(UInt32.random(in: 0...UInt32.max))/kernels"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = KernelCache(directory: directory)
        #expect(cache.load("a.cubin") == nil)
        cache.store([1, 2, 3], as: "a.cubin")
        #expect(cache.load("a.cubin") == [1, 2, 3])
        cache.store([4], as: "a.cubin")
        #expect(cache.load("a.cubin") == [4])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(leftovers == ["a.cubin"], "temporary files left behind: \(leftovers)")
        cache.remove("a.cubin")
        #expect(cache.load("a.cubin") == nil)
    }
}
