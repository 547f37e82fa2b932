import Foundation
import SwiftTuneCheckpoint
import Testing

/// Every malformed file is refused with its own error case, and the message names the file and the key.
@Suite struct SafetensorsValidationTests {
    /// Writes a hand-made file and returns the error opening it throws.
    func openError(header: String, data: [UInt8] = [], length: UInt64? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> (CheckpointError?, String) {
        let directory = try TemporaryDirectory()
        let url = try writeFile(rawSafetensors(header: header, data: data, length: length), named: "bad.safetensors", in: directory)
        return (checkpointError(sourceLocation: sourceLocation) { _ = try SafetensorsFile(url: url) }, url.path)
    }

    @Test func headerLengthPastTheEnd() throws {
        let (error, path) = try openError(header: "{}", length: 1000)
        guard case .invalidHeader(_, "header length", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "header length", "1000", "runs past the end"])
    }

    @Test func headerTooLarge() throws {
        let (error, path) = try openError(header: "{}", length: 100_000_001)
        guard case .invalidHeader(_, "header length", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "100000001", "exceeds the limit"])
    }

    @Test func fileShorterThanTheLengthField() throws {
        let directory = try TemporaryDirectory()
        let url = try writeFile([1, 2, 3], named: "short.safetensors", in: directory)
        let error = checkpointError { _ = try SafetensorsFile(url: url) }
        guard case .invalidHeader(_, "header length", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [url.path, "3 bytes"])
    }

    @Test func headerNotJSON() throws {
        let (error, path) = try openError(header: #"{"a": {"dtype": "F32",}}"#)
        guard case .invalidHeader(_, "header JSON", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "not valid JSON"])
    }

    @Test func headerNotAnObject() throws {
        let (error, path) = try openError(header: "[1, 2]  ")
        guard case .invalidHeader(_, "header JSON", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "'{'"])
    }

    @Test func headerNotUTF8() throws {
        let directory = try TemporaryDirectory()
        let bytes: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0] + [UInt8(ascii: "{"), 0xFF, 0xFE, UInt8(ascii: "}")]
        let url = try writeFile(bytes, named: "latin.safetensors", in: directory)
        let error = checkpointError { _ = try SafetensorsFile(url: url) }
        guard case .invalidHeader(_, "header JSON", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [url.path, "UTF-8"])
    }

    @Test func overlappingOffsets() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let (error, path) = try openError(header: header, data: Array(repeating: 0, count: 12))
        guard case .overlappingTensors(_, "b", "a", 4, 8)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"a\"", "\"b\""])
    }

    @Test func offsetsOutOfRange() throws {
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        let (error, path) = try openError(header: header, data: Array(repeating: 0, count: 8))
        guard case .offsetsOutOfRange(_, "w", 0, 16, 8)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"w\"", "[0, 16]"])
    }

    @Test func offsetsBeginAfterEnd() throws {
        let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#
        let (error, path) = try openError(header: header, data: Array(repeating: 0, count: 8))
        guard case .invalidEntry(_, "w", "data_offsets", _, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"w\"", "data_offsets"])
    }

    @Test func holeInTheBuffer() throws {
        let header = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#
        let (error, path) = try openError(header: header, data: Array(repeating: 0, count: 6))
        guard case .bufferHole(_, 2, 4, "a", "b")? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"a\"", "\"b\"", "[2, 4)"])
    }

    @Test func unusedBytesAtTheEnd() throws {
        let header = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        let (error, path) = try openError(header: header, data: [1, 2, 3])
        guard case .bufferHole(_, 2, 3, "a", nil)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"a\"", "end of the buffer"])
    }

    @Test func unknownDType() throws {
        let header = #"{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}}"#
        let (error, path) = try openError(header: header, data: [0, 0])
        guard case .unknownDType(_, "w", "F12")? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"w\"", "F12"])
    }

    @Test func shapeDisagreesWithByteSize() throws {
        let header = #"{"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}}"#
        let (error, path) = try openError(header: header, data: Array(repeating: 0, count: 8))
        guard case .sizeMismatch(_, "w", [2, 3], "BF16", "12", 8)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"w\"", "12 bytes", "span 8"])
    }

    @Test func duplicateKey() throws {
        let header = #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        let (error, path) = try openError(header: header, data: [0, 0])
        guard case .duplicateKey(_, "w")? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"w\"", "more than once"])
    }

    /// The JSON parser refuses repeated keys anywhere in the header; below the top level the message says where.
    @Test func duplicateKeyInsideAnEntryOrTheMetadata() throws {
        let entry = #"{"w":{"dtype":"U8","shape":[1],"dtype":"U8","data_offsets":[0,1]}}"#
        let (error, path) = try openError(header: entry, data: [0])
        guard case .invalidHeader(_, "header JSON", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "header byte 31", #"duplicate key "dtype""#, "in w"])
        let (metadata, _) = try openError(header: #"{"__metadata__":{"k":"a","k":"b"}}"#)
        expectMessage(metadata, mentions: [#"duplicate key "k""#, "in __metadata__"])
    }

    @Test func entryMissingAField() throws {
        let header = #"{"w":{"dtype":"U8","data_offsets":[0,1]}}"#
        let (error, path) = try openError(header: header, data: [0])
        guard case .invalidEntry(_, "w", "shape", _, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [path, "\"w\".shape"])
    }

    @Test func metadataMustBeStrings() throws {
        let header = #"{"__metadata__":{"format":"pt","step":3}}"#
        let (error, path) = try openError(header: header)
        guard case .invalidEntry(_, "__metadata__", "step", "a string", "3")? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        expectMessage(error, mentions: [path, "__metadata__", "step"])
    }

    @Test func missingKey() throws {
        let directory = try TemporaryDirectory()
        let header = #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let url = try writeFile(rawSafetensors(header: header, data: [7]), named: "one.safetensors", in: directory)
        let file = try SafetensorsFile(url: url)
        let error = checkpointError { _ = try file.info("lm_head.weight") }
        guard case .missingTensor("lm_head.weight", _, ["one.safetensors"])? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        expectMessage(error, mentions: [url.path, "\"lm_head.weight\"", "one.safetensors"])
    }

    @Test func emptyHeaderAndZeroSizeTensorsAreValid() throws {
        let directory = try TemporaryDirectory()
        let header = #"{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"s":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"z":{"dtype":"F16","shape":[2,0],"data_offsets":[1,1]}}"#
        let url = try writeFile(rawSafetensors(header: header + "   ", data: [9]), named: "ok.safetensors", in: directory)
        let file = try SafetensorsFile(url: url)
        #expect(file.names == ["e", "s", "z"])
        #expect(try file.withBytes("s") { Array($0) } == [9])
        let none = try writeFile(rawSafetensors(header: "{}", data: []), named: "none.safetensors", in: directory)
        #expect(try SafetensorsFile(url: none).names.isEmpty)
    }
}
