// A child process for the signal tests (`SignalTests` in SwiftTuneCLITests): it installs the training loop's
// `StopSignal` and then behaves like one phase of a run, so a test can send it real signals and check how and when it
// exits and what it leaves on disk. Never part of a product.
//
//   swift-tune-signal-probe busy GRACE        a long step that never reaches a safe point
//   swift-tune-signal-probe safe GRACE SAVE   steps of 50 ms; at the stop, a save that takes SAVE seconds
//   swift-tune-signal-probe save FOLDER       checkpoint-1 saved, then a save of checkpoint-2 that never ends
import Foundation
import SwiftTuneRunFiles
import SwiftTuneTraining

func say(_ text: String) {
    print(text)
    fflush(nil)
}

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? ""
let grace = arguments.dropFirst().first.flatMap(Double.init) ?? StopSignal.defaultGraceSeconds
switch mode {
case "busy":
    let stop = StopSignal(graceSeconds: grace)
    say("ready")
    while true { usleep(50_000) }  // never looks at `stop`
    _ = stop
case "safe":
    let saveSeconds = arguments.dropFirst(2).first.flatMap(Double.init) ?? 0
    let stop = StopSignal(graceSeconds: grace)
    say("ready")
    while !stop.isRequested { usleep(50_000) }
    stop.acknowledge()
    usleep(UInt32(saveSeconds * 1_000_000))
    say("saved")
    stop.cancel()
    exit(0)
case "save":
    guard let folder = arguments.dropFirst().first else {
        say("save needs a folder")
        exit(2)
    }
    let store = CheckpointStore(runFolder: URL(fileURLWithPath: folder))
    let stop = StopSignal(graceSeconds: 60)
    do {
        try store.save(step: 1) { try Data("complete".utf8).write(to: $0.appendingPathComponent("weights")) }
        try store.save(step: 2) { url in
            try Data("partial".utf8).write(to: url.appendingPathComponent("weights"))
            say("ready")
            while true { usleep(50_000) }
        }
    } catch {
        say("error: \(error)")
        exit(2)
    }
    _ = stop
default:
    say("unknown mode '\(mode)'; expected busy, safe or save")
    exit(2)
}
