import Foundation
import SwiftTuneCheckpoint
import SwiftTuneJSON
import SwiftTuneTestSupport
import Testing

/// Compares gguf-py's reading of a GGUF file (scripts/export/check_gguf.py manifest) with swift-tune's.
enum GGUFManifest {
    /// gguf-py reads the same metadata (keys in order, types, values) and tensors (names, types, ne, bytes, and
    /// dequantized values) as swift-tune's reader.
    static func check(_ url: URL) async throws {
        let text = try await onOwnThread { try ExportFixtures.python(["manifest", url.path]) }
        let manifest = try JSONParser.parse(text)
        let file = try GGUFFile(url: url)
        let entries = manifest["metadata"]?.arrayValue ?? []
        #expect(entries.compactMap { $0.arrayValue?.first?.stringValue } == file.metadataKeys, "metadata keys")
        let pythonType: [String: String] = ["u8": "uint8", "i8": "int8", "u16": "uint16", "i16": "int16", "u32": "uint32",
                                            "i32": "int32", "f32": "float32", "bool": "bool", "string": "string",
                                            "u64": "uint64", "i64": "int64", "f64": "float64"]
        for entry in entries {
            guard let parts = entry.arrayValue, parts.count == 3, let key = parts[0].stringValue, let ours = file[key] else {
                Issue.record("gguf-py has metadata \(entry.summary) that swift-tune does not")
                continue
            }
            let expectedType = ours.typeName.hasPrefix("array[")
                ? "array[" + (pythonType[String(ours.typeName.dropFirst(6).dropLast())] ?? "?") + "]"
                : pythonType[ours.typeName] ?? "?"
            #expect(parts[1].stringValue == expectedType, "\(key): gguf-py type \(parts[1].summary), ours \(ours.typeName)")
            #expect(Self.same(ours, parts[2]), "\(key): gguf-py reads \(parts[2].summary), swift-tune \(ours)")
        }
        let tensors = manifest["tensors"]?.arrayValue ?? []
        #expect(tensors.compactMap { $0.arrayValue?.first?.stringValue } == file.names, "tensor names and order")
        for tensor in tensors {
            guard let parts = tensor.arrayValue, parts.count == 5, let name = parts[0].stringValue else { continue }
            let info = try file.info(name)
            #expect(parts[1].stringValue == info.type.name && parts[2].arrayValue?.compactMap(\.intValue) == info.dimensions, "\(name)")
            let raw = try file.withBytes(name) { try Self.sha256($0) }
            #expect(parts[3].stringValue == raw, "\(name): raw bytes differ")
            let values = try file.floats(name)
            let dequantized = try values.withUnsafeBytes { try Self.sha256($0) }
            #expect(parts[4].stringValue == dequantized, "\(name): dequantized values differ")
        }
    }

    /// coreutils' `sha256sum` of `bytes`: the test build is unoptimised, where the project's own SHA256 takes minutes
    /// over a real model's 700 MB of raw and dequantized tensors (its own tests check it against known digests).
    static func sha256(_ bytes: UnsafeRawBufferPointer) throws -> String {
        let process = Process(), input = Pipe(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { [data = Data(bytes)] in
            input.fileHandleForWriting.write(data)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let digest = text.split(separator: " ").first else {
            throw ScriptFailure(message: "sha256sum failed (status \(process.terminationStatus)): \(text)")
        }
        return String(digest)
    }

    /// A GGUF value and gguf-py's JSON of it: numbers by value (f32 widened), strings, bools, arrays element-wise.
    static func same(_ value: GGUFValue, _ json: JSONValue) -> Bool {
        if let elements = value.arrayValues {
            guard let others = json.arrayValue, others.count == elements.count else { return false }
            return zip(elements, others).allSatisfy { same($0, $1) }
        }
        if let text = value.stringValue { return json.stringValue == text }
        if let flag = value.boolValue { return json.boolValue == flag }
        if let number = value.doubleValue, let other = json.doubleValue { return number == other }
        return false
    }
}
