import Foundation

/// cuBLASLt (`cublasLt.h`), resolved from `libcublasLt.so.13` with `dlsym`, with one handle, one workspace and the
/// matmul plans made so far (descriptors and algorithm per problem), all used under one lock.
///
/// Enum values used below, from the CUDA headers (stable across CUDA 11–13):
/// - `cudaDataType_t` (library_types.h): `CUDA_R_32F = 0`, `CUDA_R_16BF = 14`.
/// - `cublasComputeType_t` (cublas_api.h): `CUBLAS_COMPUTE_32F = 68` (plain f32; not `_FAST_TF32 = 77`).
/// - `cublasOperation_t` (cublas_api.h): `CUBLAS_OP_N = 0`, `CUBLAS_OP_T = 1`.
/// - `cublasLtMatmulDescAttributes_t`: `TRANSA = 3`, `TRANSB = 4` (int32_t values).
/// - `cublasLtMatrixLayoutAttribute_t`: `BATCH_COUNT = 5` (int32_t), `STRIDED_BATCH_OFFSET = 6` (int64_t, elements).
/// - `cublasLtMatmulPreferenceAttributes_t`: `MAX_WORKSPACE_BYTES = 1` (uint64_t),
///   `MIN_ALIGNMENT_A_BYTES … D_BYTES = 5 … 8` (uint32_t).
/// - `cublasLtMatmulHeuristicResult_t`: `cublasLtMatmulAlgo_t algo` (64 bytes) first, then `size_t workspaceSize`,
///   `cublasStatus_t state`, `float wavesCount`, `int reserved[4]` (96 bytes).
final class CuBLASLt: @unchecked Sendable {
    typealias Handle = OpaquePointer
    typealias Status = Int32
    typealias Descriptor = OpaquePointer

    /// `cudaDataType_t` of the matrices (library_types.h).
    enum DataType: Int32, Sendable {
        case f32 = 0  // CUDA_R_32F
        case bf16 = 14  // CUDA_R_16BF
    }

    private static let computeTypeF32: Int32 = 68
    private static let operationN: Int32 = 0
    private static let operationT: Int32 = 1
    private static let descriptorTransposeA: Int32 = 3
    private static let descriptorTransposeB: Int32 = 4
    private static let layoutBatchCount: Int32 = 5
    private static let layoutStridedBatchOffset: Int32 = 6
    private static let preferenceMaxWorkspaceBytes: Int32 = 1
    private static let preferenceMinAlignmentBytes: [Int32] = [5, 6, 7, 8]  // A, B, C, D
    /// Room for one heuristic result; larger than `sizeof(cublasLtMatmulHeuristicResult_t)` in case it grows.
    static let heuristicResultBytes = 1024
    /// Workspace handed to cuBLASLt (NVIDIA recommends 32 MiB on Hopper).
    static let workspaceBytes = 32 << 20

    let cublasLtCreate: @convention(c) (UnsafeMutablePointer<Handle?>?) -> Status
    let cublasLtDestroy: @convention(c) (Handle?) -> Status
    let cublasLtGetStatusName: @convention(c) (Status) -> UnsafePointer<CChar>?
    let cublasLtGetStatusString: @convention(c) (Status) -> UnsafePointer<CChar>?
    let cublasLtMatmulDescCreate: @convention(c) (UnsafeMutablePointer<Descriptor?>?, Int32, Int32) -> Status
    let cublasLtMatmulDescDestroy: @convention(c) (Descriptor?) -> Status
    let cublasLtMatmulDescSetAttribute: @convention(c) (Descriptor?, Int32, UnsafeRawPointer?, Int) -> Status
    // cublasLtMatrixLayoutCreate(layout, type, rows, cols, ld)
    let cublasLtMatrixLayoutCreate: @convention(c) (UnsafeMutablePointer<Descriptor?>?, Int32, UInt64, UInt64, Int64)
        -> Status
    let cublasLtMatrixLayoutDestroy: @convention(c) (Descriptor?) -> Status
    let cublasLtMatrixLayoutSetAttribute: @convention(c) (Descriptor?, Int32, UnsafeRawPointer?, Int) -> Status
    let cublasLtMatmulPreferenceCreate: @convention(c) (UnsafeMutablePointer<Descriptor?>?) -> Status
    let cublasLtMatmulPreferenceDestroy: @convention(c) (Descriptor?) -> Status
    let cublasLtMatmulPreferenceSetAttribute: @convention(c) (Descriptor?, Int32, UnsafeRawPointer?, Int) -> Status
    // cublasLtMatmulAlgoGetHeuristic(handle, op, A, B, C, D, preference, requested, results[], returned)
    let cublasLtMatmulAlgoGetHeuristic: @convention(c) (
        Handle?, Descriptor?, Descriptor?, Descriptor?, Descriptor?, Descriptor?, Descriptor?, Int32,
        UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?
    ) -> Status
    // cublasLtMatmul(handle, op, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc, algo, workspace, size, stream)
    let cublasLtMatmul: @convention(c) (
        Handle?, Descriptor?, UnsafeRawPointer?, UnsafeRawPointer?, Descriptor?, UnsafeRawPointer?, Descriptor?,
        UnsafeRawPointer?, UnsafeRawPointer?, Descriptor?, UnsafeMutableRawPointer?, Descriptor?, UnsafeRawPointer?,
        UnsafeMutableRawPointer?, Int, CUstream?
    ) -> Status

    let handle: Handle
    let workspace: CUDAStorage
    private let context: CUDAContext
    /// Guards the handle, the workspace and the plans: one matmul is set up and queued at a time.
    private let lock = NSLock()
    private var plans: [MatmulPlan.Key: MatmulPlan] = [:]
    /// Plan keys, oldest first.
    private var planOrder: [MatmulPlan.Key] = []

    init(_ library: DynamicLibrary, context: CUDAContext) throws {
        cublasLtCreate = try library.function("cublasLtCreate")
        cublasLtDestroy = try library.function("cublasLtDestroy")
        cublasLtGetStatusName = try library.function("cublasLtGetStatusName")
        cublasLtGetStatusString = try library.function("cublasLtGetStatusString")
        cublasLtMatmulDescCreate = try library.function("cublasLtMatmulDescCreate")
        cublasLtMatmulDescDestroy = try library.function("cublasLtMatmulDescDestroy")
        cublasLtMatmulDescSetAttribute = try library.function("cublasLtMatmulDescSetAttribute")
        cublasLtMatrixLayoutCreate = try library.function("cublasLtMatrixLayoutCreate")
        cublasLtMatrixLayoutDestroy = try library.function("cublasLtMatrixLayoutDestroy")
        cublasLtMatrixLayoutSetAttribute = try library.function("cublasLtMatrixLayoutSetAttribute")
        cublasLtMatmulPreferenceCreate = try library.function("cublasLtMatmulPreferenceCreate")
        cublasLtMatmulPreferenceDestroy = try library.function("cublasLtMatmulPreferenceDestroy")
        cublasLtMatmulPreferenceSetAttribute = try library.function("cublasLtMatmulPreferenceSetAttribute")
        cublasLtMatmulAlgoGetHeuristic = try library.function("cublasLtMatmulAlgoGetHeuristic")
        cublasLtMatmul = try library.function("cublasLtMatmul")
        self.context = context
        var handle: Handle?
        let status = cublasLtCreate(&handle)
        guard status == 0, let handle else {
            throw CUDAError.cublas(call: "cublasLtCreate", status: status, name: Self.name(of: status, cublasLtGetStatusName),
                                   message: Self.name(of: status, cublasLtGetStatusString))
        }
        self.handle = handle
        workspace = try CUDAStorage(byteCount: Self.workspaceBytes, context: context)
    }

    deinit {
        _ = context.driver.cuCtxSetCurrent(context.context)
        for plan in plans.values { destroy(plan) }
        _ = cublasLtDestroy(handle)
    }

    private static func name(of status: Status, _ function: @convention(c) (Status) -> UnsafePointer<CChar>?) -> String {
        function(status).map { String(cString: $0) } ?? "unknown cublasStatus_t"
    }

    private func check(_ status: Status, _ call: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw CUDAError.cublas(call: call(), status: status, name: Self.name(of: status, cublasLtGetStatusName),
                               message: Self.name(of: status, cublasLtGetStatusString))
    }

    /// Row-major, strided-batch `c = alpha · op(a) · op(b) + beta · c` for `batch` products of M×K by K×N, with f32
    /// compute (`CUBLAS_COMPUTE_32F`) and f32 alpha, beta (the scale type); a and b are `inputType`, c is `outputType`:
    /// f32 × f32 → f32, bf16 × bf16 → bf16 or f32.
    ///
    /// cuBLASLt is column-major, and a row-major M×N matrix is the column-major N×M matrix of its transpose, so
    /// `cᵀ = op(b)ᵀ · op(a)ᵀ` is computed: cuBLASLt's A is our b and its B is our a, each with its own transpose flag.
    /// Strides are in elements; `strideB == 0` shares b across the batch. The descriptors, layouts, preference and the
    /// heuristic's algorithm are made once per `MatmulPlan.Key` and reused (`plans`).
    func matmul(a: CUdeviceptr, b: CUdeviceptr, c: CUdeviceptr, m: Int, n: Int, k: Int, batch: Int,
                transposeA: Bool, transposeB: Bool, strideA: Int, strideB: Int, strideC: Int,
                alpha: Float, beta: Float, inputType: DataType = .f32, outputType: DataType = .f32) throws {
        let key = MatmulPlan.Key(
            m: m, n: n, k: k, batch: batch, transposeA: transposeA, transposeB: transposeB, strideA: strideA,
            strideB: strideB, strideC: strideC, inputType: inputType, outputType: outputType,
            alignments: [Self.alignment(of: b), Self.alignment(of: a), Self.alignment(of: c)])
        lock.lock()
        defer { lock.unlock() }
        let plan = try plan(for: key)
        var alphaValue = alpha, betaValue = beta
        try check(cublasLtMatmul(handle, plan.operation, &alphaValue, pointer(b), plan.layoutA, pointer(a), plan.layoutB,
                                 &betaValue, pointer(c), plan.layoutC, UnsafeMutableRawPointer(bitPattern: UInt(c)),
                                 plan.layoutC, UnsafeRawPointer(plan.heuristic),
                                 UnsafeMutableRawPointer(bitPattern: UInt(workspace.address)), Self.workspaceBytes,
                                 context.stream),
                  "cublasLtMatmul(m: \(m), n: \(n), k: \(k), batch: \(batch))")
    }

    /// The cached plan for `key`, made on first use; past `MatmulPlan.capacity` plans the oldest is dropped (packed
    /// batches give a new M for most batches). Call with `lock` held.
    private func plan(for key: MatmulPlan.Key) throws -> MatmulPlan {
        if let plan = plans[key] { return plan }
        let plan = try makePlan(key)
        if planOrder.count >= MatmulPlan.capacity {
            let oldest = planOrder.removeFirst()
            if let evicted = plans.removeValue(forKey: oldest) { destroy(evicted) }
        }
        plans[key] = plan
        planOrder.append(key)
        return plan
    }

    /// The descriptors and the heuristic's first algorithm for one problem.
    private func makePlan(_ key: MatmulPlan.Key) throws -> MatmulPlan {
        var plan = MatmulPlan()
        do {
            try check(cublasLtMatmulDescCreate(&plan.operation, Self.computeTypeF32, DataType.f32.rawValue),
                      "cublasLtMatmulDescCreate")
            var transposeLtA = key.transposeB ? Self.operationT : Self.operationN
            var transposeLtB = key.transposeA ? Self.operationT : Self.operationN
            try check(cublasLtMatmulDescSetAttribute(plan.operation, Self.descriptorTransposeA, &transposeLtA, 4),
                      "cublasLtMatmulDescSetAttribute(TRANSA)")
            try check(cublasLtMatmulDescSetAttribute(plan.operation, Self.descriptorTransposeB, &transposeLtB, 4),
                      "cublasLtMatmulDescSetAttribute(TRANSB)")

            // Stored (before op) column-major shapes: our b is [K, N] row-major (N×K column-major) or [N, K] if
            // transposed; our a is [M, K] (K×M column-major) or [K, M]; c is [M, N] (N×M column-major).
            let (m, n, k) = (key.m, key.n, key.k)
            plan.layoutA = try layout(key.inputType, rows: key.transposeB ? k : n, columns: key.transposeB ? n : k,
                                      batch: key.batch, stride: key.strideB, name: "A (b)")
            plan.layoutB = try layout(key.inputType, rows: key.transposeA ? m : k, columns: key.transposeA ? k : m,
                                      batch: key.batch, stride: key.strideA, name: "B (a)")
            plan.layoutC = try layout(key.outputType, rows: n, columns: m, batch: key.batch, stride: key.strideC,
                                      name: "C")

            try check(cublasLtMatmulPreferenceCreate(&plan.preference), "cublasLtMatmulPreferenceCreate")
            var workspaceSize = UInt64(Self.workspaceBytes)
            try check(cublasLtMatmulPreferenceSetAttribute(plan.preference, Self.preferenceMaxWorkspaceBytes,
                                                           &workspaceSize, 8),
                      "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)")
            // Row slices of a tensor need not be 256-byte aligned (the default cuBLASLt assumes): say what they are.
            for (attribute, alignment) in zip(Self.preferenceMinAlignmentBytes, key.alignments + [key.alignments[2]]) {
                var value = alignment
                try check(cublasLtMatmulPreferenceSetAttribute(plan.preference, attribute, &value, 4),
                          "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_BYTES)")
            }

            plan.heuristic.initializeMemory(as: UInt8.self, repeating: 0, count: Self.heuristicResultBytes)
            var found: Int32 = 0
            let call = "cublasLtMatmulAlgoGetHeuristic(m: \(m), n: \(n), k: \(k), batch: \(key.batch))"
            try check(cublasLtMatmulAlgoGetHeuristic(handle, plan.operation, plan.layoutA, plan.layoutB, plan.layoutC,
                                                     plan.layoutC, plan.preference, 1, plan.heuristic, &found), call)
            guard found > 0 else {
                throw CUDAError.cublas(call: call, status: 15, name: "CUBLAS_STATUS_NOT_SUPPORTED",
                                       message: "no algorithm found")
            }
            return plan
        } catch {
            destroy(plan)
            throw error
        }
    }

    /// Frees a plan's descriptors and heuristic buffer.
    private func destroy(_ plan: MatmulPlan) {
        if let operation = plan.operation { _ = cublasLtMatmulDescDestroy(operation) }
        for layout in [plan.layoutA, plan.layoutB, plan.layoutC] {
            if let layout { _ = cublasLtMatrixLayoutDestroy(layout) }
        }
        if let preference = plan.preference { _ = cublasLtMatmulPreferenceDestroy(preference) }
        plan.heuristic.deallocate()
    }

    private func layout(_ type: DataType, rows: Int, columns: Int, batch: Int, stride: Int,
                        name: String) throws -> Descriptor? {
        var layout: Descriptor?
        try check(cublasLtMatrixLayoutCreate(&layout, type.rawValue, UInt64(rows), UInt64(columns), Int64(rows)),
                  "cublasLtMatrixLayoutCreate(\(name): \(rows)×\(columns))")
        if batch > 1 {
            var count = Int32(batch)
            var offset = Int64(stride)
            do {
                try check(cublasLtMatrixLayoutSetAttribute(layout, Self.layoutBatchCount, &count, 4),
                          "cublasLtMatrixLayoutSetAttribute(\(name), BATCH_COUNT)")
                try check(cublasLtMatrixLayoutSetAttribute(layout, Self.layoutStridedBatchOffset, &offset, 8),
                          "cublasLtMatrixLayoutSetAttribute(\(name), STRIDED_BATCH_OFFSET)")
            } catch {
                _ = cublasLtMatrixLayoutDestroy(layout)
                throw error
            }
        }
        return layout
    }

    private func pointer(_ address: CUdeviceptr) -> UnsafeRawPointer? { UnsafeRawPointer(bitPattern: UInt(address)) }

    /// The largest power of two (at most 256) dividing `address`.
    static func alignment(of address: CUdeviceptr) -> UInt32 {
        guard address != 0 else { return 256 }
        return UInt32(min(256, address & (~address &+ 1)))
    }
}
