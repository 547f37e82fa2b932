import ArgumentParser
import Foundation
import SwiftTuneModels
import SwiftTuneQuantization
import SwiftTuneTraining

/// The tuner flags of `sft` and `pt`: LoRA as PEFT defines it, or full fine-tuning.
struct TunerOptions: ParsableArguments {
    @Option(name: flag("train_type"), help: "lora, qlora (LoRA over an NF4 double-quantized base) or full (default lora).")
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
    @Option(name: flag("quant_method"), help: "bnb: quantize the base model's linear weights as they load (QLoRA).")
    var quantMethod: String?
    @Option(name: flag("quant_bits"), help: "4 (bitsandbytes 4-bit; with --quant_method bnb, the default method).")
    var quantBits: Int?
    @Option(name: flag("bnb_4bit_quant_type"), help: "nf4 (default) or fp4.")
    var bnb4BitQuantType: String?
    @Option(name: flag("bnb_4bit_use_double_quant"), help: "Quantize the block scales too (default true).")
    var bnb4BitUseDoubleQuant: Bool?
    @Option(name: flag("bnb_4bit_compute_dtype"), help: "The dtype 4-bit weights decode to: bfloat16 or float32 (default: --torch_dtype).")
    var bnb4BitComputeDtype: String?
    @Option(name: flag("offload_embedding"), help: "Keep the frozen embedding table in pinned host memory, read a token row at a time (default false).")
    var offloadEmbedding: Bool?

    func validate() throws {
        if let trainType, let tunerType, trainType != tunerType {
            throw ValidationError("--train_type \(trainType) and --tuner_type \(tunerType) disagree; give one of them")
        }
        if let type = trainType ?? tunerType, type != "qlora", SFTOptions.TrainType(rawValue: type) == nil {
            throw ValidationError("--train_type \(type): expected lora, qlora or full")
        }
        if let quantMethod, quantMethod != "bnb" {
            throw ValidationError("--quant_method \(quantMethod): expected bnb (bitsandbytes 4-bit; hqq, eetq, awq and gptq "
                                  + "are not implemented)")
        }
        if let quantBits, quantBits != 4 {
            throw ValidationError("--quant_bits \(quantBits): expected 4" + (quantBits == 8
                ? " (8-bit LLM.int8 bases are not implemented; 4-bit NF4 takes less memory)" : ""))
        }
        if quantMethod != nil, quantBits == nil {
            throw ValidationError("--quant_method \(quantMethod!) needs --quant_bits 4")
        }
        if let bnb4BitQuantType, FourBitQuantType(rawValue: bnb4BitQuantType) == nil {
            throw ValidationError("--bnb_4bit_quant_type \(bnb4BitQuantType): expected nf4 or fp4")
        }
        if let bnb4BitComputeDtype, !["bfloat16", "float32"].contains(bnb4BitComputeDtype) {
            throw ValidationError("--bnb_4bit_compute_dtype \(bnb4BitComputeDtype): expected bfloat16 or float32")
        }
        let bnbFlags = [bnb4BitQuantType.map { _ in "--bnb_4bit_quant_type" },
                        bnb4BitUseDoubleQuant.map { _ in "--bnb_4bit_use_double_quant" },
                        bnb4BitComputeDtype.map { _ in "--bnb_4bit_compute_dtype" }].compactMap { $0 }
        if fourBitQuantization == nil, let first = bnbFlags.first {
            throw ValidationError("\(first) applies to a 4-bit base: add --train_type qlora or --quant_bits 4")
        }
        if fourBitQuantization != nil, trainType ?? tunerType == "full" {
            throw ValidationError("--quant_bits 4 with --train_type full: a 4-bit base is frozen; train lora or qlora")
        }
        if let loraRank, loraRank < 1 { throw ValidationError("--lora_rank \(loraRank): expected a positive integer") }
        if let loraDropout, !(0..<1).contains(loraDropout) {
            throw ValidationError("--lora_dropout \(loraDropout): expected a number in [0, 1)")
        }
        if adapters.count > 1 { throw ValidationError("--adapters: training continues one adapter, got \(adapters.count)") }
    }

    /// qlora trains LoRA (over a 4-bit base: `fourBitQuantization`).
    var resolvedTrainType: SFTOptions.TrainType {
        (trainType ?? tunerType).flatMap(SFTOptions.TrainType.init(rawValue:)) ?? .lora
    }

    /// The 4-bit base of `--train_type qlora` (NF4, double quantization) or `--quant_bits 4`, with the bnb flags.
    var fourBitQuantization: FourBitQuantization? {
        guard trainType ?? tunerType == "qlora" || quantBits == 4 else { return nil }
        var quantization = FourBitQuantization()
        if let type = bnb4BitQuantType.flatMap(FourBitQuantType.init(rawValue:)) { quantization.quantType = type }
        if let bnb4BitUseDoubleQuant { quantization.doubleQuantization = bnb4BitUseDoubleQuant }
        return quantization
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
