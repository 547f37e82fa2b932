import Foundation
import SwiftTuneServer

/// Keeps the page's paths inside `--root_dir`: a relative path is taken from the root, `..` and symbolic links are
/// resolved first, and anything that lands outside is refused (403), so the page cannot read arbitrary files.
public struct RootGuard: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath()
    }

    /// `path` resolved inside the root, or a 403 that names it and the root.
    public func resolve(_ path: String, field: String) throws -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        let url = (expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : root.appendingPathComponent(expanded))
            .standardizedFileURL.resolvingSymlinksInPath()
        guard url.path == root.path || url.path.hasPrefix(root.path.hasSuffix("/") ? root.path : root.path + "/") else {
            throw OpenAIError(status: 403, message: "\(field) \(path): outside the allowed root \(root.path) "
                                  + "(start web-ui with --root_dir to allow another folder)",
                              type: "invalid_request_error", param: field, code: "path_outside_root")
        }
        return url
    }

    /// Whether a flag's value names a path that must be checked: the output and data folders, and any value that
    /// looks like a path (absolute, `~`, or with `..`).
    public static func isPathArgument(name: String, value: String) -> Bool {
        let pathFlags: Set<String> = ["output_dir", "eval_output_dir", "logging_dir", "dataset_dir", "result_path",
                                      "adapters", "resume_from_checkpoint", "root_dir"]
        return pathFlags.contains(name) || value.hasPrefix("/") || value.hasPrefix("~") || value.contains("..")
    }
}
