import ArgumentParser
import Foundation

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
        subcommands: [SFTCommand.self, PTCommand.self, RLHFCommand.self, InferCommand.self, ExportCommand.self, MergeLoRACommand.self, DeployCommand.self, SampleCommand.self,
                      EvalCommand.self, WebUICommand.self, AppCommand.self,
                      TokenizeCommand.self,
                      DownloadCommand.self, CheckBackendCommand.self, BenchmarkCommand.self]
    )

    public init() {}

    /// ArgumentParser's `main(_:)` with one step between parsing and running: once the flags are parsed and
    /// validated it creates the file `SWIFT_TUNE_ARGUMENTS_ACCEPTED` names, if set (the web UI sets it, so that a
    /// refused flag is told from a slow start without timing the child), and with `SWIFT_TUNE_PARSE_ONLY=1` it
    /// stops there: a dry run that checks a command line (the README's test checks every command it shows).
    public static func main(accepting arguments: [String]) async {
        do {
            var command = try parseAsRoot(arguments)
            let environment = ProcessInfo.processInfo.environment
            if let marker = environment["SWIFT_TUNE_ARGUMENTS_ACCEPTED"], !marker.isEmpty {
                _ = FileManager.default.createFile(atPath: marker, contents: nil)
            }
            if environment["SWIFT_TUNE_PARSE_ONLY"] == "1" {
                print("parse only: the command line is accepted")
                return
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
