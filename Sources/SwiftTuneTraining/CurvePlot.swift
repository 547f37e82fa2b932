import Foundation

/// Training curves as standalone SVG files (any browser shows them), like ms-swift's `images/` folder:
/// the raw series in a light line and a TensorBoard-style exponential smoothing on top.
public enum CurvePlot {
    /// Writes `folder/<name>.svg` for each series with at least one point; returns the files written.
    /// - Parameter series: name (e.g. `train_loss`) → (step, value) points.
    @discardableResult
    public static func write(series: [(name: String, points: [(step: Int, value: Double)])], to folder: URL,
                             smoothing: Double = 0.9) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var written: [URL] = []
        for (name, points) in series {
            let finite = points.filter { $0.value.isFinite }
            guard !finite.isEmpty else { continue }
            let url = folder.appendingPathComponent("\(name).svg")
            try Data(svg(title: name, points: finite, smoothing: smoothing).utf8).write(to: url, options: .atomic)
            written.append(url)
        }
        return written
    }

    /// The SVG text of one plot.
    public static func svg(title: String, points: [(step: Int, value: Double)], smoothing: Double = 0.9) -> String {
        let (width, height) = (640.0, 400.0)
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0)
        let steps = points.map { Double($0.step) }, values = points.map(\.value)
        let (xMin, xMax) = (steps.min() ?? 0, max(steps.max() ?? 1, (steps.min() ?? 0) + 1))
        var (yMin, yMax) = (values.min() ?? 0, values.max() ?? 1)
        if yMax - yMin < 1e-12 { (yMin, yMax) = (yMin - 0.5 * max(abs(yMin), 1e-3), yMax + 0.5 * max(abs(yMax), 1e-3)) }
        func x(_ step: Double) -> Double { left + (step - xMin) / (xMax - xMin) * (width - left - right) }
        func y(_ value: Double) -> Double { top + (yMax - value) / (yMax - yMin) * (height - top - bottom) }
        func path(_ values: [Double]) -> String {
            zip(steps, values).enumerated().map { i, p in
                String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(p.0), y(p.1))
            }.joined(separator: " ")
        }
        var smoothed: [Double] = []
        var last = values[0]
        for v in values {
            last = smoothing * last + (1 - smoothing) * v
            smoothed.append(last)
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="16">\(title)</text>

            """
        for i in 0...4 {
            let value = yMin + (yMax - yMin) * Double(i) / 4
            let yy = y(value)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, yy, width - right, yy)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>\n", left - 6, yy + 4, label(value))
        }
        for i in 0...4 {
            let step = xMin + (xMax - xMin) * Double(i) / 4
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                          x(step), height - bottom + 18, Int(step.rounded()))
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">step</text>\n", width / 2, height - 10)
        svg += "<path d=\"\(path(values))\" fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1.5\"/>\n"
        svg += "<path d=\"\(path(smoothed))\" fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\"/>\n"
        return svg + "</svg>\n"
    }

    static func label(_ value: Double) -> String {
        let magnitude = abs(value)
        return magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? String(format: "%.2e", value) : String(format: "%.4g", value)
    }
}
