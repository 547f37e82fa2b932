import Foundation
import SwiftTuneTraining
import Testing

/// `StopSignal` in process (the real signals and exits are tested with child processes in SwiftTuneCLITests).
@Suite struct StopSignalTests {
    @Test func theGracePeriodGrowsWithTheSlowestStep() {
        let stop = StopSignal(signals: [], graceSeconds: 5)
        #expect(stop.currentGrace == 5)
        stop.stepFinished(seconds: 2)
        #expect(stop.currentGrace == 5)
        stop.stepFinished(seconds: 10)
        stop.stepFinished(seconds: 1)
        #expect(stop.currentGrace == 15)
        #expect(!stop.isRequested)
        stop.receive(signal: SIGTERM)
        #expect(stop.isRequested)
        stop.acknowledge()
        stop.cancel()
    }
}
