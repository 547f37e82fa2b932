import ArgumentParser
import Foundation
import SwiftTuneData
import SwiftTuneHub

/// Where `--model ORG/NAME` and hub `--dataset` ids come from: ModelScope (ms-swift's default) or the HF hub.
struct HubFlags: ParsableArguments {
    @Option(name: flag("use_hf"), help: "Resolve hub ids on the HF hub instead of ModelScope (default: USE_HF).")
    var useHF: Bool?
    @Option(name: flag("hub_token"), help: "Hub access token (default: HF_TOKEN or MODELSCOPE_API_TOKEN).")
    var hubToken: String?
    @Option(name: flag("revision"), help: "Hub branch, tag or commit (default: main on HF, master on ModelScope).")
    var revision: String?

    var options: HubOptions {
        var options = HubOptions()
        if let useHF { options.useHF = useHF }
        if let hubToken { options.token = hubToken }
        if let revision { options.revision = revision }
        options.progress = HubFlags.renderProgress
        return options
    }

    /// A local path for `--model`: as given when it exists, else from the caches or a download.
    func resolveModel(_ spec: String) async throws -> URL {
        if FileManager.default.fileExists(atPath: spec) { return URL(fileURLWithPath: spec) }
        return try await HubResolver.resolveModel(spec, options: options)
    }

    /// The dataset specs with hub ids replaced by their downloaded folders (built-in datasets stay as they are).
    func resolveDatasets(_ specs: [DatasetSpec]) async throws -> [DatasetSpec] {
        var resolved: [DatasetSpec] = []
        for spec in specs {
            guard case let .hub(id, useHF) = spec.source, !SelfCognition.names.contains(id) else {
                resolved.append(spec)
                continue
            }
            let folder = try await HubResolver.resolveDataset(id, useHF: useHF, options: options)
            resolved.append(DatasetSpec(source: .path(folder.path), subsets: spec.subsets, sampleCount: spec.sampleCount,
                                        raw: spec.raw))
        }
        return resolved
    }

    @Sendable static func renderProgress(_ progress: HubProgress) {
        let line = String(format: "\rdownloading %@: %.1f%%", progress.file, 100 * progress.fraction)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
