import Foundation
import Testing
@testable import SwiftTuneCUDA

/// The embedded kernel source and the compiled-kernel cache, checked without a GPU.
@Suite struct KernelSourceTests {
    let source = String(decoding: KernelSource.bytes, as: UTF8.self)

    @Test func everyLaunchedKernelIsInTheEmbeddedSource() {
        let names = KernelSource.kernelNames(in: source)
        #expect(!names.isEmpty)
        #expect(Set(names).count == names.count, "duplicate kernel names: \(names)")
        for kernel in Kernel.allCases {
            #expect(names.contains(kernel.rawValue), "kernels.cu lacks extern \"C\" __global__ void \(kernel.rawValue)")
        }
        // And nothing in the source is dead: every kernel there is launched from Swift.
        #expect(Set(names) == Set(Kernel.allCases.map(\.rawValue)))
    }

    @Test func kernelNameParsingHandlesSpacing() {
        let text = "extern \"C\" __global__ void first(int a)\nextern  \"C\"\n__global__   void second_f32()\n"
            + "__device__ void helper()\n"
        #expect(KernelSource.kernelNames(in: text) == ["first", "second_f32"])
    }

    @Test func constantsSharedWithTheSourceAgree() {
        #expect(KernelSource.integerDefine("MAX_HEAD_DIM", in: source) == KernelSource.maximumHeadDimension)
        #expect(KernelSource.integerDefine("MAX_ATTENTION_BLOCK", in: source) == 256)
        #expect(KernelSource.integerDefine("TYPE_F32", in: source).map(Int32.init) == CUDABackend.castCode(.f32))
        #expect(KernelSource.integerDefine("TYPE_F64", in: source).map(Int32.init) == CUDABackend.castCode(.f64))
        #expect(KernelSource.integerDefine("TYPE_BF16", in: source).map(Int32.init) == CUDABackend.castCode(.bf16))
        #expect(KernelSource.integerDefine("TYPE_F16", in: source).map(Int32.init) == CUDABackend.castCode(.f16))
        #expect(CUDABackend.castCode(.i32) == nil)
    }

    @Test func cacheFileNameChangesWithSourceArchitectureVersionAndOptions() {
        let bytes = KernelSource.bytes
        let options = CUDABackend.compilerOptions(architecture: "sm_90")
        let base = KernelCache.fileName(source: bytes, architecture: "sm_90", nvrtcVersion: (13, 0), options: options)
        #expect(base.hasPrefix("kernels-sm_90-nvrtc13.0-"))
        #expect(base.hasSuffix(".cubin"))
        #expect(base == KernelCache.fileName(source: bytes, architecture: "sm_90", nvrtcVersion: (13, 0), options: options))
        let variants = [
            KernelCache.fileName(source: bytes + [0x20], architecture: "sm_90", nvrtcVersion: (13, 0), options: options),
            KernelCache.fileName(source: bytes, architecture: "sm_80", nvrtcVersion: (13, 0), options: options),
            KernelCache.fileName(source: bytes, architecture: "sm_90", nvrtcVersion: (13, 1), options: options),
            KernelCache.fileName(source: bytes, architecture: "sm_90", nvrtcVersion: (13, 0), options: options + ["-G"]),
        ]
        for variant in variants { #expect(variant != base) }
        // The hash part alone differs too, not only the readable prefix.
        let hash = { (name: String) in name.split(separator: "-").last.map(String.init) ?? "" }
        #expect(Set(variants.map(hash) + [hash(base)]).count == variants.count + 1)
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
