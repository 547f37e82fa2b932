import ArgumentParser

/// The `swift-tune` root command. Subcommands follow ms-swift's (`sft`, `pt`, `infer`, `export`, `deploy`, …)
/// and arrive with their issues; each is a thin layer over the library.
public struct SwiftTuneCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "swift-tune",
        abstract: "Fine-tune, run, export and serve Llama-family language models.",
        discussion: """
            A Swift toolkit with ms-swift's command line: train (sft, pt), infer, export and deploy, \
            on its own CPU and CUDA backends.
            """,
        version: version,
        subcommands: [SFTCommand.self, PTCommand.self, RLHFCommand.self, InferCommand.self, ExportCommand.self, DeployCommand.self,
                      EvalCommand.self, WebUICommand.self, AppCommand.self,
                      TokenizeCommand.self,
                      DownloadCommand.self, CheckBackendCommand.self, BenchmarkCommand.self]
    )

    public init() {}
}
