import Foundation
import Hummingbird

extension Response {
    /// `value` as a JSON body (`application/json`), slashes unescaped as OpenAI writes them.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? OpenAIError.internalError("the response could not be encoded").json
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An OpenAI-shaped error with its status.
    static func error(_ error: OpenAIError) -> Response {
        Response(status: HTTPResponse.Status(code: error.status), headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.json)))
    }
}
