import Foundation
import SwiftTuneCheckpoint
import SwiftTuneNN
import SwiftTuneTensor

/// AdamW state files, for resuming a run: one safetensors file holding `<parameter>.exp_avg` and
/// `<parameter>.exp_avg_sq` (f32, PyTorch's state names) per parameter, with the step count and the
/// hyperparameters in its `__metadata__`.
extension AdamW {
    /// The usual file name inside a checkpoint directory.
    public static let stateFileName = "optimizer.safetensors"

    /// Writes the state atomically (temporary file, then rename).
    public func saveState(to url: URL) throws {
        let h = hyperparameters
        let metadata = ["format": "pt", "optimizer": "adamw", "step": String(stepCount), "beta1": "\(h.beta1)",
                        "beta2": "\(h.beta2)", "epsilon": "\(h.epsilon)", "weight_decay": "\(h.weightDecay)"]
        try SafetensorsWriter.write(tensors: stateTensors, metadata: metadata, to: url)
    }

    /// Restores a state written by `saveState` for the same parameters (names and shapes). Everything is checked
    /// before anything changes. The hyperparameters stay this optimizer's; the file's are informational.
    public func loadState(from url: URL) throws {
        let file = try SafetensorsFile(url: url)
        let hint = "(is this state for another model, adapter or set of trainable parameters?)"
        guard let text = file.metadata?["step"], let step = Int(text), step >= 0 else {
            throw CheckpointError.invalidValue(path: url.path, key: "__metadata__.step",
                                               reason: "must hold the number of optimizer steps taken")
        }
        let names = Set(stateTensors.map(\.name))
        if let extra = file.names.first(where: { !names.contains($0) }) {
            throw CheckpointError.invalidValue(path: url.path, key: extra, reason: "belongs to no parameter here \(hint)")
        }
        for (name, tensor) in stateTensors {
            guard file.contains(name) else {
                throw CheckpointError.missingTensor(key: name, path: url.path, searched: [url.lastPathComponent])
            }
            let stored = try file.info(name).shape
            guard stored == tensor.shape else {
                throw CheckpointError.invalidValue(path: url.path, key: name,
                                                   reason: "has shape \(stored), the parameter \(tensor.shape) \(hint)")
            }
        }
        try restoreState(stepCount: step) { name in
            try parameters.first.map { try file.tensor(name, on: $0.value.backend, as: .f32) }
        }
    }
}
