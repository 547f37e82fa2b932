import Foundation
import SwiftTuneCLI

@main
struct SwiftTuneMain {
    static func main() {
        let arguments: [String]
        do {
            arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(2)
        }
        SwiftTuneCommand.main(arguments)
    }
}
