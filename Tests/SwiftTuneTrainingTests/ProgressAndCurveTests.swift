import Foundation
import Testing
@testable import SwiftTuneTraining

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct ProgressAndCurveTests {
    @Test func progressBarRendersLikeTqdm() {
        let line = ProgressBar.render(label: "Train", done: 5, total: 20, elapsed: 10, postfix: "loss=1.23")
        #expect(line.hasPrefix("Train:  25%|█████"))
        #expect(line.contains("5/20 [00:10<00:30, 2.00s/it, loss=1.23]"))
        #expect(ProgressBar.render(label: "Train", done: 20, total: 20, elapsed: 4, postfix: "").contains("100%|████████████████████|"))
    }

    @Test func curvesAreSVG() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try CurvePlot.write(series: [("train_loss", [(1, 2.0), (2, 1.5), (3, 1.2)]), ("eval_loss", [])],
                                        to: folder)
        #expect(files.map(\.lastPathComponent) == ["train_loss.svg"])
        let svg = try String(contentsOf: files[0], encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("<path d=\"M") && svg.hasSuffix("</svg>\n"))
    }
}
