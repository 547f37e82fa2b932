import Testing
@testable import SwiftTuneCUDA

/// Compiles the embedded kernels through the Swift NVRTC bindings when an NVRTC library can be found, which needs no
/// GPU: point `SWIFT_TUNE_CUDA_LIB_DIR` at a folder holding `libnvrtc.so.13`, e.g. from the `nvidia-cuda-nvrtc`
/// wheel (`pip install --target /tmp/nvrtc nvidia-cuda-nvrtc`, folder `/tmp/nvrtc/nvidia/cu13/lib`).
@Suite struct NVRTCCompileTests {
    static func findNVRTC() -> DynamicLibrary? {
        let folders = CUDALibraries.searchFolders(environment: CUDALibraries.currentEnvironment())
        let candidates = CUDALibraries.candidates(for: CUDALibraries.nvrtcLibrary, folders: folders)
        return try? DynamicLibrary.open(candidates).get()
    }

    @Test(.enabled(if: findNVRTC() != nil, "no libnvrtc.so.13 found (set SWIFT_TUNE_CUDA_LIB_DIR)"),
          arguments: KernelModule.allCases)
    func everyModuleCompilesForHopperWithTheSharedHeader(module: KernelModule) throws {
        let library = try #require(Self.findNVRTC())
        let nvrtc = try NVRTC(library)
        #expect(nvrtc.version.major >= 12)
        let cubin = try nvrtc.compileToCUBIN(source: module.source, name: module.fileName,
                                             headers: [(KernelModule.headerName, KernelModule.header)],
                                             architecture: "sm_90",
                                             options: KernelLibrary.compilerOptions(architecture: "sm_90"))
        #expect(Array(cubin.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46], "a cubin is an ELF file")
        let text = String(decoding: cubin, as: UTF8.self)
        for symbol in module.functions.flatMap(\.symbols) {
            #expect(text.contains(symbol), "the cubin of \(module.fileName) lacks \(symbol)")
        }
    }

    @Test(.enabled(if: findNVRTC() != nil, "no libnvrtc.so.13 found (set SWIFT_TUNE_CUDA_LIB_DIR)"))
    func aModuleWithoutItsHeaderDoesNotCompile() throws {
        let nvrtc = try NVRTC(try #require(Self.findNVRTC()))
        #expect(throws: CUDAError.self) {
            _ = try nvrtc.compileToCUBIN(source: KernelModule.layers.source, name: "layers.cu", architecture: "sm_90",
                                         options: KernelLibrary.compilerOptions(architecture: "sm_90"))
        }
    }

    @Test(.enabled(if: findNVRTC() != nil, "no libnvrtc.so.13 found (set SWIFT_TUNE_CUDA_LIB_DIR)"))
    func compilationErrorsCarryTheLog() throws {
        let nvrtc = try NVRTC(try #require(Self.findNVRTC()))
        let broken = Array("extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }".utf8)
        do {
            _ = try nvrtc.compileToCUBIN(source: broken, name: "broken.cu", architecture: "sm_90",
                                         options: KernelLibrary.compilerOptions(architecture: "sm_90"))
            Issue.record("compiling broken source succeeded")
        } catch let CUDAError.compilation(module, architecture, log) {
            #expect(module == "broken.cu")
            #expect(architecture == "sm_90")
            #expect(log.contains("undefined_name"))
        }
    }
}
