@preconcurrency import Foundation
import SwiftTuneCLI

@main
struct SwiftTuneMain {
    static func main() async {
        setvbuf(stdout, nil, _IOLBF, 0)  // log lines appear in order with the progress bar on stderr
        let arguments: [String]
        do {
            arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(2)
        }
        await SwiftTuneCommand.main(accepting: arguments)
    }
}
