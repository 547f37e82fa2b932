import Testing
import SwiftTuneTensor
@testable import SwiftTuneCUDA

/// The `sample` kernel's constants agree with the Swift side (checked without a GPU).
@Suite struct SampleKernelSourceTests {
    @Test func constantsSharedWithTheSourceAgree() {
        let source = String(decoding: KernelModule.sampling.source, as: UTF8.self)
        #expect(KernelSource.integerDefine("SAMPLE_BLOCK", in: source) == CUDABackend.sampleBlock)
        #expect(KernelSource.integerDefine("SAMPLE_PARAMETERS", in: source) == SamplingParameter.count)
        #expect(CUDABackend.sampleBlock % 32 == 0 && CUDABackend.sampleBlock <= 1024)
    }
}
