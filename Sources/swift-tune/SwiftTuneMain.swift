import SwiftTuneCLI

@main
struct SwiftTuneMain {
    static func main() {
        SwiftTuneCommand.main()
    }
}
