import Foundation

/// A tqdm-style progress line on standard error:
/// `Train:  34%|███▍      | 34/100 [00:12<00:23, 2.83it/s, loss=1.234, lr=9.9e-05, tok/s=1234]`.
/// On a terminal it redraws in place; otherwise (CI, files) it prints a line at most every `plainInterval` seconds.
public final class ProgressBar: @unchecked Sendable {
    public let label: String
    public let total: Int
    private let start = Date()
    private let interactive: Bool
    private let plainInterval: TimeInterval
    private var lastPrint = Date.distantPast
    private var finished = false

    public init(label: String, total: Int, interactive: Bool = isatty(STDERR_FILENO) == 1, plainInterval: TimeInterval = 10) {
        self.label = label
        self.total = max(total, 1)
        self.interactive = interactive
        self.plainInterval = plainInterval
    }

    /// Redraws the bar for `done` steps with `postfix` (e.g. `loss=…`).
    public func update(_ done: Int, postfix: String = "", force: Bool = false) {
        let now = Date()
        guard force || interactive || now.timeIntervalSince(lastPrint) >= plainInterval || done >= total else { return }
        lastPrint = now
        let line = Self.render(label: label, done: done, total: total, elapsed: now.timeIntervalSince(start), postfix: postfix)
        FileHandle.standardError.write(Data(((interactive ? "\r" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    /// Moves past the bar's line so other output starts on a fresh line (the bar redraws on the next update).
    public func finishLine() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Ends the bar's line.
    public func finish() {
        guard !finished else { return }
        finished = true
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// The bar's text (pure, for tests).
    public static func render(label: String, done: Int, total: Int, elapsed: TimeInterval, postfix: String) -> String {
        let fraction = min(1, Double(done) / Double(max(total, 1)))
        let width = 20
        let filled = fraction * Double(width)
        let full = Int(filled)
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var bar = String(repeating: "█", count: full)
        if full < width { bar += partials[Int((filled - Double(full)) * 8)] }
        bar += String(repeating: " ", count: max(0, width - bar.count))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let speed = rate >= 1 || rate == 0 ? String(format: "%.2fit/s", rate) : String(format: "%.2fs/it", 1 / rate)
        let percent = String(format: "%3d%%", Int(fraction * 100))
        var line = "\(label): \(percent)|\(bar)| \(done)/\(total) [\(clock(elapsed))<\(clock(remaining)), \(speed)"
        if !postfix.isEmpty { line += ", " + postfix }
        return line + "]"
    }

    static func clock(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds).rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
