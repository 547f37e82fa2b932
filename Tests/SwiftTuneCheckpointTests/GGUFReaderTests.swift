import Foundation
@testable import SwiftTuneCheckpoint
import Testing

/// The GGUF header reader: metadata of every type, tensor infos, and one test per malformed input, each checking
/// that the error names the file, the key or tensor, and what was expected.
@Suite struct GGUFReaderTests {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    private func write(_ builder: GGUFBuilder, _ name: String = "model.gguf") throws -> URL {
        try writeFile(builder.bytes(), named: name, in: directory)
    }

    private func refusal(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> (CheckpointError?, String) {
        let url = try writeFile(bytes, named: "bad.gguf", in: directory)
        let error = checkpointError(sourceLocation: sourceLocation) { _ = try GGUFFile(url: url) }
        return (error, url.path)
    }

    @Test func readsAHandMadeFile() throws {
        let file = try GGUFFile(url: write(.valid()))
        #expect(file.version == 3)
        #expect(file.metadataKeys == ["general.architecture", "test.count"])
        #expect(file.architecture == "llama")
        #expect(try file.int("test.count") == 7)
        #expect(file.names == ["a.weight", "b.weight"])
        let a = try file.info("a.weight")
        #expect(a.dimensions == [4, 2] && a.shape == [2, 4] && a.rowLength == 4 && a.rowCount == 2)
        #expect(a.offset == 0 && a.byteCount == 32)
        #expect(try file.info("b.weight").offset == 32)
        #expect(try file.floats("a.weight") == (0..<8).map(Float.init))
        #expect(try file.floats("a.weight", rows: 1..<2) == [4, 5, 6, 7])
        #expect(try file.floats("b.weight") == [1, 2, 3])
        let wrong = checkpointError { _ = try file.string("test.count") }
        expectMessage(wrong, mentions: [file.path, "test.count", "a string", "u32"])
        let missing = checkpointError { _ = try file.info("c.weight") }
        expectMessage(missing, mentions: ["c.weight", "model.gguf"])
    }

    @Test func readsEveryValueTypeOfTheFixture() throws {
        let file = try GGUFFile(url: GGUFFixtures.directory.appendingPathComponent("quants.gguf"))
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file["test.u8"] == .uint8(200))
        #expect(file["test.i8"] == .int8(-100))
        #expect(file["test.u16"] == .uint16(60000))
        #expect(file["test.i16"] == .int16(-30000))
        #expect(file["test.u32"] == .uint32(4_000_000_000))
        #expect(file["test.i32"] == .int32(-2_000_000_000))
        #expect(file["test.f32"] == .float32(0.1))
        #expect(file["test.bool"] == .bool(true))
        #expect(file["test.string"] == .string("héllo, 世界 ✓"))
        #expect(file["test.u64"] == .uint64(1 << 63 + 5))
        #expect(file["test.i64"] == .int64(-(1 << 62)))
        #expect(file["test.f64"] == .float64(1e-300))
        #expect(try file.stringArray("test.strings") == ["a", "", "b c"])
        #expect(file["test.u16s"] == .array(elementType: .uint16, values: [.uint16(1), .uint16(2), .uint16(65535)]))
        let nested = try #require(file["test.nested"]?.arrayValues)
        #expect(nested.map { $0.arrayValues?.compactMap(\.intValue) } == [[1, 2], [3], [4, 5, 6]])
        #expect(file["test.nested"]?.typeName == "array[array[i32]]")
        // Integers of every width read as Int; u64 beyond Int.max does not.
        #expect(try file.int("test.u16") == 60000 && file.int("test.i8") == -100)
        #expect(file["test.u64"]?.intValue == nil)
        #expect(try file.double("test.f32") == Double(Float(0.1)))
    }

    @Test func everyTruncationIsRefusedWithItsPlace() throws {
        let builder = GGUFBuilder.valid()
        let bytes = builder.bytes()
        let file = try GGUFFile(url: write(builder))
        let end = try file.info("b.weight").fileRange.upperBound
        for cut in 0..<end {
            let (error, path) = try refusal(Array(bytes[..<cut]))
            guard case let .truncatedGGUF(errorPath, key, _, _, fileSize)? = error else {
                Issue.record("cut at \(cut): expected truncatedGGUF, got \(String(describing: error))")
                continue
            }
            #expect(errorPath == path && fileSize == cut && !key.isEmpty, "cut at \(cut)")
        }
        // The padding after the last tensor may be missing (ggml insists on it; we need only the data).
        #expect(throws: Never.self) { try GGUFFile(url: writeFile(Array(bytes[..<end]), named: "short.gguf", in: directory)) }
    }

    @Test func badMagic() throws {
        var builder = GGUFBuilder.valid()
        builder.magic = Array("GGML".utf8)
        let (error, path) = try refusal(builder.bytes())
        expectMessage(error, mentions: [path, "magic", "\"GGUF\"", "47 47 4D 4C"])
    }

    @Test func versionOneAndFuturesAreRefused() throws {
        var builder = GGUFBuilder.valid()
        builder.version = 1
        let (v1, path) = try refusal(builder.bytes())
        expectMessage(v1, mentions: [path, "version", "2 or 3", "GGUF v1"])
        builder.version = 4
        expectMessage(try refusal(builder.bytes()).0, mentions: ["version", "got 4"])
        builder.version = 2
        #expect(try GGUFFile(url: write(builder)).version == 2)
    }

    @Test func bigEndianFileIsRecognised() throws {
        var builder = GGUFBuilder.valid()
        builder.version = UInt32(3).byteSwapped
        let (error, path) = try refusal(builder.bytes())
        expectMessage(error, mentions: [path, "version", "big-endian"])
    }

    @Test func misalignedOffset() throws {
        var builder = GGUFBuilder.valid()
        builder.tensors[1].offset = 33
        let (error, path) = try refusal(builder.bytes())
        expectMessage(error, mentions: [path, "\"b.weight\".offset", "multiple of the alignment 32", "got 33"])
    }

    @Test func overlappingAndGappedOffsets() throws {
        var builder = GGUFBuilder.valid()
        builder.tensors[1].offset = 0
        let (overlap, path) = try refusal(builder.bytes())
        expectMessage(overlap, mentions: [path, "\"b.weight\".offset", "expected 32", "got 0"])
        builder.tensors[1].offset = 64
        expectMessage(try refusal(builder.bytes()).0, mentions: ["\"b.weight\".offset", "expected 32", "got 64"])
        // Data in another order than the infos (b before a) is refused as ggml refuses it.
        builder.tensors[0].offset = 32
        builder.tensors[1].offset = 0
        expectMessage(try refusal(builder.bytes()).0, mentions: ["\"a.weight\".offset", "expected 0", "got 32"])
    }

    @Test func unknownTensorTypes() throws {
        for raw: UInt32 in [4, 31, 99] {
            var builder = GGUFBuilder.valid()
            builder.tensors[0].type = raw
            let (error, path) = try refusal(builder.bytes())
            expectMessage(error, mentions: [path, "\"a.weight\".type", "a ggml type id", "got \(raw)"])
        }
    }

    @Test func stringLengthPastTheEnd() throws {
        var builder = GGUFBuilder.valid()
        builder.add("general.name", raw: GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(1 << 40)) + Array("abc".utf8))
        let (error, path) = try refusal(builder.bytes())
        expectMessage(error, mentions: [path, "general.name", "string length 1099511627776", "needs 1099511627776 bytes"])
        // A tensor name and an array length past the end, too.
        let named = GGUFBuilder.valid()
        var bytes = named.bytes()
        let header = 4 + 4 + 8 + 8  // magic, version, tensor count, metadata count
        let metadataBytes = named.metadata.reduce(0) { $0 + 8 + $1.0.utf8.count + $1.1.count }
        bytes.replaceSubrange(header + metadataBytes ..< header + metadataBytes + 8, with: GGUFBuilder.le(UInt64(1 << 50)))
        expectMessage(try refusal(bytes).0, mentions: ["tensor_info[0].name", "needs"])
        var array = GGUFBuilder.valid()
        array.add("tokenizer.ggml.tokens", raw: GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(1 << 40)))
        expectMessage(try refusal(array.bytes()).0, mentions: ["tokenizer.ggml.tokens (array length)"])
    }

    @Test func arrayElementErrorsNameTheIndex() throws {
        var builder = GGUFBuilder.valid()
        let element = GGUFBuilder.string("ok")
        builder.add("tokenizer.ggml.tokens", raw: GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(3))
                        + element + element + GGUFBuilder.le(UInt64(1 << 40)))
        expectMessage(try refusal(builder.bytes()).0, mentions: ["tokenizer.ggml.tokens[2]", "string length"])
        var bools = GGUFBuilder.valid()
        bools.add("flags", raw: GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt32(7)) + GGUFBuilder.le(UInt64(2)) + [1, 2])
        expectMessage(try refusal(bools.bytes()).0, mentions: ["flags[1]", "a bool (0 or 1)", "got 2"])
    }

    @Test func blockDivisibilityDimensionsAndSizes() throws {
        var quant = GGUFBuilder.valid()
        quant.tensors[0] = .init(name: "q.weight", dimensions: [16, 2], type: 8, offset: nil, data: [UInt8](repeating: 0, count: 34))
        expectMessage(try refusal(quant.bytes()).0, mentions: ["\"q.weight\".ne[0]", "multiple of Q8_0's block size 32", "got 16"])
        var dims = GGUFBuilder.valid()
        dims.tensors[0].dimensions = [1, 1, 1, 1, 8]
        expectMessage(try refusal(dims.bytes()).0, mentions: ["\"a.weight\".n_dims", "at most 4", "got 5"])
        var huge = GGUFBuilder.valid()
        huge.tensors[1].dimensions = [1000]
        let (past, path) = try refusal(huge.bytes())
        expectMessage(past, mentions: [path, "tensor \"b.weight\"", "needs 4000 bytes"])
        var overflow = GGUFBuilder.valid()
        overflow.tensors[0].dimensions = [1 << 40, 1 << 40]
        expectMessage(try refusal(overflow.bytes()).0, mentions: ["\"a.weight\".ne", "fits in 63 bits"])
    }

    @Test func duplicatesAndBadValues() throws {
        var keys = GGUFBuilder.valid()
        keys.add("test.count", u32: 8)
        expectMessage(try refusal(keys.bytes()).0, mentions: ["test.count", "unique metadata keys"])
        var names = GGUFBuilder.valid()
        names.tensors[1].name = "a.weight"
        expectMessage(try refusal(names.bytes()).0, mentions: ["tensor \"a.weight\"", "unique tensor names"])
        var longName = GGUFBuilder.valid()
        longName.tensors[0].name = String(repeating: "x", count: 64)
        expectMessage(try refusal(longName.bytes()).0, mentions: ["at most 63 bytes", "64 bytes"])
        var type = GGUFBuilder.valid()
        type.add("test.bad", raw: GGUFBuilder.le(UInt32(13)) + [0, 0, 0, 0])
        expectMessage(try refusal(type.bytes()).0, mentions: ["test.bad", "a value type 0–12", "got 13"])
        var alignment = GGUFBuilder.valid()
        alignment.add("general.alignment", u32: 48)
        expectMessage(try refusal(alignment.bytes()).0, mentions: ["general.alignment", "a u32 power of two", "u32 48"])
        var alignmentType = GGUFBuilder.valid()
        alignmentType.add("general.alignment", string: "32")
        expectMessage(try refusal(alignmentType.bytes()).0, mentions: ["general.alignment", "string"])
        var counts = GGUFBuilder.valid()
        counts.tensorCount = 1 << 60
        expectMessage(try refusal(counts.bytes()).0, mentions: ["tensor_count"])
    }

    @Test func alignmentFromMetadataPlacesTheData() throws {
        var builder = GGUFBuilder.valid()
        builder.alignment = 64
        builder.add("general.alignment", u32: 64)
        let file = try GGUFFile(url: write(builder))
        #expect(file.alignment == 64 && file.dataOffset % 64 == 0)
        #expect(try file.info("b.weight").offset == 64)
        #expect(try file.floats("b.weight") == [1, 2, 3])
    }

    @Test func typesThatCannotBeDequantizedAreNamed() throws {
        var builder = GGUFBuilder.valid()
        builder.tensors[0] = .init(name: "q2.weight", dimensions: [256], type: 10, offset: nil, data: [UInt8](repeating: 0, count: 84))
        let file = try GGUFFile(url: write(builder))
        #expect(try file.info("q2.weight").type == .q2K)
        let error = checkpointError { _ = try file.floats("q2.weight") }
        expectMessage(error, mentions: [file.path, "q2.weight", "Q2_K", "supported: F32, F16, BF16, Q8_0, Q4_0"])
    }

    /// Issue 18: a corrupt key is shown escaped and cut short, never raw (NUL, control bytes, megabytes of junk).
    @Test func corruptKeysAndNamesAreEscapedAndShortened() throws {
        var keys = GGUFBuilder.valid()
        let junk = "bad\0key\u{1B}[2J\n" + String(repeating: "z", count: 5000)
        keys.add(junk, raw: GGUFBuilder.le(UInt32(13)) + [0, 0, 0, 0])
        let message = "\(try refusal(keys.bytes()).0)"
        expectMessage(try refusal(keys.bytes()).0, mentions: [#"bad\0key\u{1B}[2J\n"#, "… (\(junk.utf8.count) bytes)", "got 13"])
        #expect(!message.contains("\0") && !message.contains("\u{1B}") && message.count < 400, "\(message)")
        var names = GGUFBuilder.valid()
        names.tensors[1].name = "a.weight\u{7}"
        names.tensors[0].name = "a.weight\u{7}"
        expectMessage(try refusal(names.bytes()).0, mentions: [#"tensor "a.weight\u{7}""#, "unique tensor names"])
        #expect(ShownText.escaped("model.layers.0.attn_q.weight") == "model.layers.0.attn_q.weight")
        #expect(ShownText.escaped("a\"b") == #"a\"b"#)
        #expect(ShownText.escaped(String(repeating: "é", count: 100)) == String(repeating: "é", count: 80) + "… (200 bytes)")
    }
}
