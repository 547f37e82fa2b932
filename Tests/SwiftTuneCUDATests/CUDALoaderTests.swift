import Testing
@testable import SwiftTuneCUDA

/// The CUDA backend on a machine without a GPU: it must fail with an error that says what it searched.
@Suite struct CUDALoaderTests {
    @Test func initWithoutCUDAThrowsAnErrorListingTheSearchedPaths() throws {
        do {
            let backend = try CUDABackend()
            // A machine with a GPU and the libraries: nothing to check here (the GPU script compares the ops).
            #expect(backend.name == "cuda:0")
        } catch let error as CUDAError {
            guard case let .librariesNotFound(searches) = error else {
                // Libraries present but no usable GPU (e.g. a driver without a device): the message names the call.
                #expect(error.description.contains("failed") || error.description.contains("unavailable"))
                return
            }
            let message = error.description
            #expect(!searches.isEmpty)
            for search in searches {
                #expect(message.contains(search.library))
                for path in search.searched { #expect(message.contains(path)) }
            }
            #expect(message.contains("/usr/local/cuda-13.0/targets/x86_64-linux/lib/"))
            #expect(message.contains("SWIFT_TUNE_CUDA_LIB_DIR"))
            #expect(message.contains("--device cpu"))
        }
    }

    @Test func searchOrderFollowsTheEnvironment() {
        let folders = CUDALibraries.searchFolders(environment: [
            "SWIFT_TUNE_CUDA_LIB_DIR": "/opt/override", "CUDA_HOME": "/opt/cuda",
        ])
        #expect(folders == [
            "/opt/override", "/opt/cuda/lib64", "/opt/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/lib64",
            "/usr/local/cuda-13.0/targets/x86_64-linux/lib", "/usr/local/cuda/targets/x86_64-linux/lib",
        ])
        let candidates = CUDALibraries.candidates(for: CUDALibraries.nvrtcLibrary, folders: ["/a", "/b"])
        #expect(candidates == [
            "/a/libnvrtc.so.13", "/a/libnvrtc.so", "/b/libnvrtc.so.13", "/b/libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so",
        ])
        #expect(CUDALibraries.searchFolders(environment: [:]).first == "/usr/local/cuda/lib64")
    }

    @Test func missingLibrariesAreAllNamed() throws {
        // Folders that do not exist and sonames that cannot resolve: every library is reported missing.
        let error = CUDAError.librariesNotFound([
            .init(library: "libcuda.so.1", purpose: "the NVIDIA driver API",
                  searched: ["/x/libcuda.so.1", "libcuda.so.1 (LD_LIBRARY_PATH, system library cache)"],
                  lastError: "libcuda.so.1: cannot open shared object file"),
            .init(library: "libcublasLt.so.13", purpose: "cuBLASLt, for matrix products",
                  searched: ["/x/libcublasLt.so.13"], lastError: ""),
        ])
        let message = error.description
        #expect(message.hasPrefix("CUDA backend unavailable: could not load libcuda.so.1, libcublasLt.so.13."))
        #expect(message.contains("    /x/libcuda.so.1"))
        #expect(message.contains("last error: libcuda.so.1: cannot open shared object file"))
        #expect(message.contains("hint: install the NVIDIA driver"))
    }

    @Test func driverErrorsNameTheCallAndStatus() {
        let message = CUDAError.driver(call: "cuInit", code: 100, name: "CUDA_ERROR_NO_DEVICE",
                                       message: "no CUDA-capable device is detected").description
        #expect(message.contains("cuInit"))
        #expect(message.contains("CUDA_ERROR_NO_DEVICE (100)"))
        #expect(message.contains("--device cpu"))
        let blas = CUDAError.cublas(call: "cublasLtMatmul(m: 3, n: 4, k: 5, batch: 1)", status: 7,
                                    name: "CUBLAS_STATUS_INVALID_VALUE", message: "an invalid value was used")
        #expect(blas.description.contains("cublasLtMatmul(m: 3, n: 4, k: 5, batch: 1)"))
        #expect(blas.description.contains("CUBLAS_STATUS_INVALID_VALUE (7)"))
    }

    @Test func outOfMemorySaysWhatWasAskedForWhatWasFreeAndWhatToChange() {
        let message = CUDAError.outOfMemory(device: "NVIDIA H100 (GPU 0)", requested: 3 << 29, free: 1 << 29,
                                            total: 80 << 30, inUse: 70 << 30).description
        #expect(message.contains("out of GPU memory on NVIDIA H100 (GPU 0): asked for 1.50 GiB"))
        #expect(message.contains("512 MiB free of 80.00 GiB (70.00 GiB held by this run's tensors)"))
        for suggestion in ["--gradient_checkpointing true", "--max_length", "--train_type qlora"] {
            #expect(message.contains(suggestion), "\(message)")
        }
        let unknown = CUDAError.outOfMemory(device: "GPU 1", requested: 5 << 20, free: nil, total: nil, inUse: nil)
        #expect(unknown.description.contains("asked for 5 MiB (hint:"), "\(unknown)")
        #expect(CUDAError.size(1_073_741_824 + 10_737_418) == "1.01 GiB")
        #expect(CUDAError.size(1_048_576 * 3 / 2) == "2 MiB")
    }

    @Test func cublasAlignmentIsTheLargestPowerOfTwoUpTo256() {
        #expect(CuBLASLt.alignment(of: 0x7f00_0000_0000) == 256)
        #expect(CuBLASLt.alignment(of: 0x7f00_0000_0004) == 4)
        #expect(CuBLASLt.alignment(of: 0x7f00_0000_0030) == 16)
        #expect(CuBLASLt.alignment(of: 0) == 256)
    }
}
