import ArgumentParser
import Foundation
import SwiftTuneModels
import SwiftTuneTraining

/// The tuner flags of `sft` and `pt`: LoRA as PEFT defines it, or full fine-tuning.
struct TunerOptions: ParsableArguments {
    @Option(name: flag("train_type"), help: "lora or full (default lora).")
    var trainType: String?
    @Option(name: flag("tuner_type"), help: "ms-swift v4's name for --train_type.")
    var tunerType: String?
    @Option(name: flag("lora_rank"), help: "LoRA rank r (default 8).")
    var loraRank: Int?
    @Option(name: flag("lora_alpha"), help: "LoRA alpha (default 32; scale alpha/r).")
    var loraAlpha: Double?
    @Option(name: flag("lora_dropout"), help: "Dropout on the LoRA input (default 0.05).")
    var loraDropout: Double?
    @Option(name: flag("target_modules"), parsing: .upToNextOption,
            help: "all-linear (default) or module-name suffixes such as q_proj v_proj.")
    var targetModules: [String] = []
    @Option(name: flag("target_regex"), help: "A regex over full module names; overrides --target_modules.")
    var targetRegex: String?
    @Option(name: flag("use_rslora"), help: "Scale by alpha/√r (default false).")
    var useRSLoRA: Bool?
    @Option(name: flag("modules_to_save"), parsing: .upToNextOption, help: "Modules trained in full and saved with the adapter, e.g. embed_tokens lm_head.")
    var modulesToSave: [String] = []
    @Option(name: flag("adapters"), parsing: .upToNextOption, help: "Start from an existing LoRA adapter folder.")
    var adapters: [String] = []

    func validate() throws {
        if let trainType, let tunerType, trainType != tunerType {
            throw ValidationError("--train_type \(trainType) and --tuner_type \(tunerType) disagree; give one of them")
        }
        if let type = trainType ?? tunerType, SFTOptions.TrainType(rawValue: type) == nil {
            throw ValidationError("--train_type \(type): expected lora or full (qlora arrives with the QLoRA issue)")
        }
        if let loraRank, loraRank < 1 { throw ValidationError("--lora_rank \(loraRank): expected a positive integer") }
        if let loraDropout, !(0..<1).contains(loraDropout) {
            throw ValidationError("--lora_dropout \(loraDropout): expected a number in [0, 1)")
        }
        if adapters.count > 1 { throw ValidationError("--adapters: training continues one adapter, got \(adapters.count)") }
    }

    var resolvedTrainType: SFTOptions.TrainType {
        (trainType ?? tunerType).flatMap(SFTOptions.TrainType.init(rawValue:)) ?? .lora
    }

    var loraConfiguration: LoRAConfiguration {
        var lora = LoRAConfiguration()
        if let loraRank { lora.rank = loraRank }
        if let loraAlpha { lora.alpha = loraAlpha }
        if let loraDropout { lora.dropout = loraDropout }
        if let useRSLoRA { lora.useRSLoRA = useRSLoRA }
        if let targetRegex {
            lora.targets = .regex(targetRegex)
        } else if !targetModules.isEmpty, targetModules != ["all-linear"] {
            lora.targets = .names(targetModules)
        }
        lora.modulesToSave = modulesToSave
        return lora
    }
}
