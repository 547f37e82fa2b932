import Foundation
import Testing

/// `swift-tune rlhf` as a user runs it: ms-swift's flags, clear refusals, and a reward model that `infer` scores.
@Suite struct RLHFCommandTests {
    /// Six preference pairs as `messages` + `rejected_response`.
    static func pairs(in folder: URL) throws -> String {
        let rows = [("What is 2+2?", "4", "5"), ("Name a color.", "Blue", "Loud"), ("Say hi.", "Hi!", "Bye."),
                    ("Capital of France?", "Paris", "Berlin"), ("A fruit?", "Apple", "Rock"), ("Count.", "1, 2", "2, 1")]
        let url = folder.appendingPathComponent("pairs.jsonl")
        try rows.map { q, good, bad in
            #"{"messages": [{"role": "user", "content": "\#(q)"}, {"role": "assistant", "content": "\#(good)"}], "rejected_response": "\#(bad)"}"#
        }.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func helpListsTheTypesAndLossTypes() throws {
        let help = try CLI.run(["rlhf", "--help"])
        #expect(help.status == 0)
        for text in ["--rlhf_type", "dpo, kto, cpo, simpo, orpo, rm or grpo", "--num_generations", "--reward_funcs",
                     "--epsilon_high", "--importance_sampling_level", "--scale_rewards", "--reward_command", "dr_grpo", "bco_pair", "discopop", "--ref_model",
                     "--center_rewards_coefficient", "--max_completion_length", "--lora_rank"] {
            #expect(help.output.contains(text), "--help lacks \(text)")
        }
    }

    @Test func badFlagsAreRefusedWithTheirNames() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = ["rlhf", "--model", CLI.tinyModel, "--dataset", try Self.pairs(in: folder), "--device", "cpu",
                    "--output_dir", folder.appendingPathComponent("runs").path, "--max_steps", "1"]
        let cases: [([String], [String])] = [
            (["--rlhf_type", "grpo"], ["--reward_funcs", "at least one reward"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--num_generations", "1"], ["--num_generations", "at least 2"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--num_generations", "4", "--per_device_train_batch_size", "6"],
             ["--per_device_train_batch_size", "multiple of --num_generations"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "formt"], ["--reward_funcs formt", "accuracy, format"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--loss_type", "sigmoid"], ["--loss_type sigmoid", "dr_grpo"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--rpo_alpha", "1"], ["--rpo_alpha", "grpo"]),
            (["--rlhf_type", "dpo", "--num_generations", "4"], ["--num_generations", "grpo"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--advantage_estimator", "ppo"],
             ["--advantage_estimator ppo", "rloo, reinforce_plus_plus"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--advantage_estimator", "rloo", "--num_generations", "1"],
             ["--num_generations", "rloo"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--num_generations", "2", "--per_device_train_batch_size", "2",
              "--gradient_accumulation_steps", "2", "--steps_per_generation", "3"], ["--steps_per_generation 3", "multiple"]),
            (["--rlhf_type", "grpo", "--reward_url", "ftp://example"], ["--reward_url", "http://"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "format", "--num_generations", "2", "--per_device_train_batch_size", "2",
              "--beta", "0", "--ref_model", CLI.tinyModel],
             ["--ref_model", "beta 0"]),
            (["--rlhf_type", "dpo", "--reward_url", "http://127.0.0.1:1/"], ["--reward_url", "grpo"]),
            (["--rlhf_type", "grpo", "--reward_funcs", "accuracy", "--num_generations", "2",
              "--per_device_train_batch_size", "2"], ["accuracy", "solution or answer", "pairs.jsonl:1"]),
            (["--rlhf_type", "dpo", "--desirable_weight", "2"], ["--desirable_weight", "kto"]),
            (["--rlhf_type", "kto", "--center_rewards_coefficient", "0.1"], ["--center_rewards_coefficient", "rm"]),
            (["--loss_type", "sigmoid", "ipo", "--loss_weights", "1"], ["--loss_weights", "one weight per --loss_type"]),
            (["--loss_type", "bogus"], ["--loss_type bogus", "sigmoid"]),
            (["--beta=-1"], ["--beta", "positive"]),
            (["--rlhf_type", "orpo", "--ref_model", CLI.tinyModel], ["--ref_model", "orpo"]),
            (["--rlhf_type", "cpo", "--loss_type", "bco_pair"], ["--loss_type bco_pair", "cpo"]),
        ]
        for (extra, needles) in cases {
            let result = try CLI.run(base + extra)
            #expect(result.status != 0, "\(extra) should fail")
            for needle in needles { #expect(result.error.contains(needle), "\(extra): \(result.error)") }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs").path))
    }

    @Test func grpoTrainsWithTheEngineAndLogsRewards() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("prompts.jsonl")
        try ["What is 2+2?", "Name a color."].map { #"{"messages": [{"role": "user", "content": "\#($0)"}]}"# }
            .joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let result = try CLI.run(["rlhf", "--rlhf_type", "grpo", "--model", CLI.tinyModel, "--dataset", url.path,
                                  "--device", "cpu", "--lora_rank", "4", "--max_steps", "2", "--num_generations", "2",
                                  "--per_device_train_batch_size", "4", "--max_completion_length", "6",
                                  "--reward_funcs", "repetition", "soft_overlong", "--soft_cache_length", "2",
                                  "--reward_weights", "1", "0.5", "--use_vllm", "true", "--vllm_mode", "colocate",
                                  "--logging_steps", "1", "--output_dir", folder.appendingPathComponent("runs").path])
        #expect(result.status == 0, "\(result.error)")
        for text in ["in-process engine", "\"reward\"", "\"rewards/soft_overlong/mean\"", "\"completions/mean_length\"",
                     "\"kl\"", "\"clip_ratio/region_mean\"", "last checkpoint: "] {
            #expect(result.output.contains(text), "output lacks \(text): \(result.output)")
        }
    }

    @Test func aRewardModelTrainsAndInferScoresRows() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.pairs(in: folder)
        let train = try CLI.run(["rlhf", "--rlhf_type", "rm", "--model", CLI.tinyModel, "--dataset", data, "--device", "cpu",
                                 "--lora_rank", "4", "--max_steps", "2", "--per_device_train_batch_size", "2",
                                 "--logging_steps", "1", "--output_dir", folder.appendingPathComponent("runs").path])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("\"min_reward\"") && train.output.contains("\"accuracy\""), "\(train.output)")
        let checkpoint = try #require(train.output.split(separator: "\n").first { $0.hasPrefix("last checkpoint: ") })
            .dropFirst("last checkpoint: ".count)
        let result = folder.appendingPathComponent("rewards.jsonl")
        let infer = try CLI.run(["infer", "--adapters", String(checkpoint), "--val_dataset", data, "--device", "cpu",
                                 "--result_path", result.path])
        #expect(infer.status == 0, "\(infer.error)")
        #expect(infer.output.contains("accuracy: ") && infer.output.contains("in 6 pairs"), "\(infer.output)")
        let lines = try String(contentsOf: result, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6 && lines[0].contains("\"reward\":") && lines[0].contains("\"rejected_reward\":"))
    }
}
