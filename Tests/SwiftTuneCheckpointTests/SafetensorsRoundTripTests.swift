import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
import Testing

@Suite struct SafetensorsRoundTripTests {
    let backend = CPUBackend(useBLAS: false, threadCount: 1)

    /// A tensor of `dtype` and `shape` whose bytes are 1, 2, 3, … (mod 251), so every byte position is checked.
    func patterned(_ dtype: DType, _ shape: [Int]) throws -> Tensor {
        let count = shape.reduce(1, *) * dtype.byteSize
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: ($0 + 1) % 251) }
        return try bytes.withUnsafeBytes { try backend.tensor(bytes: $0, shape: shape, dtype: dtype) }
    }

    @Test func everyDTypeRoundTripsWithScalarsEmptyTensorsAndMetadata() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("all.safetensors")
        let tensors: [(name: String, tensor: Tensor)] = [
            ("f32", try patterned(.f32, [2, 3])),
            ("f64", try patterned(.f64, [3])),
            ("bf16", try patterned(.bf16, [2, 2])),
            ("f16", try patterned(.f16, [4])),
            ("i32", try patterned(.i32, [2, 1, 2])),
            ("i64", try patterned(.i64, [2])),
            ("u8", try patterned(.u8, [5])),
            ("scalar", try patterned(.f32, [])),
            ("empty", try patterned(.f32, [0, 4])),
            ("empty.bf16", try patterned(.bf16, [3, 0])),
        ]
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n ünïcode"]
        try SafetensorsWriter.write(tensors: tensors, metadata: metadata, to: url)

        let file = try SafetensorsFile(url: url)
        #expect(Set(file.names) == Set(tensors.map(\.name)))
        #expect(file.metadata == metadata)
        for (name, original) in tensors {
            let info = try file.info(name)
            #expect(info.shape == original.shape, "\(name)")
            #expect(info.dtype == SafetensorsDType(original.dtype), "\(name)")
            #expect(info.byteCount == original.byteCount, "\(name)")
            let expected = try backend.bytes(original)
            #expect(try file.withBytes(name) { Array($0) } == expected, "\(name)")
            let loaded = try file.tensor(name, on: backend)
            #expect(loaded.shape == original.shape && loaded.dtype == original.dtype, "\(name)")
            #expect(try backend.bytes(loaded) == expected, "\(name)")
        }
    }

    @Test func metadataIsOptional() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("plain.safetensors")
        try SafetensorsWriter.write(tensors: ["x": try backend.tensor([1, 2], shape: [2])], metadata: nil, to: url)
        let file = try SafetensorsFile(url: url)
        #expect(file.metadata == nil)
        #expect(try backend.floats(file.tensor("x", on: backend)) == [1, 2])
    }

    @Test func headerIsPaddedToEightBytesAndTensorsSortedByAlignmentThenName() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("order.safetensors")
        let tensors: [String: Tensor] = [
            "z.u8": try patterned(.u8, [3]), "a.u8": try patterned(.u8, [1]),
            "m.f16": try patterned(.f16, [1]), "b.bf16": try patterned(.bf16, [1]),
            "y.i32": try patterned(.i32, [1]), "c.f32": try patterned(.f32, [1]), "b.f32": try patterned(.f32, [2]),
            "x.f64": try patterned(.f64, [1]), "w.i64": try patterned(.i64, [1]),
        ]
        try SafetensorsWriter.write(tensors: tensors, metadata: ["format": "pt"], to: url)

        let bytes = try Array(Data(contentsOf: url))
        let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(length % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        #expect(header.hasPrefix("{\"__metadata__\":{\"format\":\"pt\"},"))
        let trimmed = header.reversed().drop(while: { $0 == " " })
        #expect(trimmed.first == "}")
        #expect(header.count - trimmed.count < 8)
        // The reference order: I64, F64, F32, I32, BF16, F16, U8 (descending alignment rank), then byte-wise name.
        let file = try SafetensorsFile(url: url)
        #expect(file.names == ["w.i64", "x.f64", "b.f32", "c.f32", "y.i32", "b.bf16", "m.f16", "a.u8", "z.u8"])
        // Header member order matches data order.
        let positions = file.names.map { header.range(of: "\"\($0)\"")?.lowerBound }
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(positions.allSatisfy { $0 != nil })
    }

    @Test func tinyFileIsByteExact() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("tiny.safetensors")
        try SafetensorsWriter.write(tensors: [
            ("b", try backend.tensor([1.0, -2.0], shape: [2])),
            ("a", try ([1, 2, 3] as [UInt8]).withUnsafeBytes { try backend.tensor(bytes: $0, shape: [3], dtype: .u8) }),
        ], metadata: ["format": "pt"], to: url)

        // The header JSON is 138 bytes, padded with 6 spaces to 144 = 0x90; F32 sorts before U8.
        let json = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""a":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}"#
        #expect(json.utf8.count == 138)
        let expected: [UInt8] = [0x90, 0, 0, 0, 0, 0, 0, 0] + Array(json.utf8) + Array(repeating: 0x20, count: 6)
            + [0x00, 0x00, 0x80, 0x3F]  // 1.0f little-endian
            + [0x00, 0x00, 0x00, 0xC0]  // -2.0f little-endian
            + [1, 2, 3]
        let written = try Array(Data(contentsOf: url))
        #expect(written == expected)
    }

    @Test func loadingConvertsBetweenFloatDTypes() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("convert.safetensors")
        let values: [Float] = [1.5, -0.25, 3.0e-3, 65504, 0]
        try SafetensorsWriter.write(tensors: [
            ("bf16", try backend.tensor(values, shape: [5], dtype: .bf16)),
            ("f16", try backend.tensor(values, shape: [5], dtype: .f16)),
            ("f32", try backend.tensor([1.0 + 1.0 / 256, 1.0 + 3.0 / 256], shape: [2])),
            ("ids", try backend.tensor([1, 2] as [Int32], shape: [2])),
        ], to: url)
        let file = try SafetensorsFile(url: url)

        // bf16/f16 → f32 is exact: the result equals the stored 16-bit values widened.
        let bf16 = try file.tensor("bf16", on: backend, as: .f32)
        #expect(bf16.dtype == .f32)
        #expect(try backend.floats(bf16) == values.map { FloatBits.float(fromBF16: FloatBits.bf16(from: $0)) })
        let f16 = try file.tensor("f16", on: backend, as: .f32)
        #expect(try backend.floats(f16) == values.map { FloatBits.float(fromF16: FloatBits.f16(from: $0)) })
        // f32 → bf16 rounds to nearest even: 1 + 1/256 is a tie (rounds down), 1 + 3/256 rounds up.
        let narrowed = try file.tensor("f32", on: backend, as: .bf16)
        #expect(try backend.floats(narrowed) == [1.0, 1.0 + 4.0 / 256])

        let error = checkpointError { _ = try file.tensor("ids", on: backend, as: .f32) }
        guard case .unsupportedConversion(_, "ids", "i32", "f32")? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        expectMessage(error, mentions: [url.path, "\"ids\""])
    }

    @Test func dtypesWithoutATensorTypeReadAsBytesButRefuseToLoad() throws {
        let directory = try TemporaryDirectory()
        let header = #"{"q":{"dtype":"I8","shape":[2],"data_offsets":[0,2]},"m":{"dtype":"BOOL","shape":[1],"data_offsets":[2,3]}}"#
        let url = try writeFile(rawSafetensors(header: header, data: [0xFF, 0x01, 0x01]), named: "i8.safetensors", in: directory)
        let file = try SafetensorsFile(url: url)
        #expect(try file.info("q").dtype == .i8)
        #expect(try file.withBytes("q") { Array($0) } == [0xFF, 0x01])

        let error = checkpointError { _ = try file.tensor("q", on: backend) }
        guard case .unsupportedDType(_, "q", "I8")? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        expectMessage(error, mentions: [url.path, "\"q\"", "I8"])
    }

    @Test func subByteDTypesCountBits() {
        #expect(SafetensorsDType.f4.byteCount(shape: [3, 2]) == 3)
        #expect(SafetensorsDType.f4.byteCount(shape: [3]) == nil)
        #expect(SafetensorsDType.f6E2M3.byteCount(shape: [4]) == 3)
        #expect(SafetensorsDType.bf16.byteCount(shape: []) == 2)
        #expect(SafetensorsDType.f32.byteCount(shape: [Int.max, 2]) == nil)
    }
}
