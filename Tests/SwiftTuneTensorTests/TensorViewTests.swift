import SwiftTuneCPU
import SwiftTuneTensor
import Testing

/// `reshaped` and `rows` views: they share storage, infer `-1`, and throw typed errors instead of trapping.
@Suite("Tensor views")
struct TensorViewTests {
    let backend: any Backend = CPUBackend()

    @Test func reshapeSharesStorageAndInfers() throws {
        let x = try backend.tensor((0..<12).map(Float.init), shape: [3, 4])
        let y = try x.reshaped([2, -1, 3])
        #expect(y.shape == [2, 2, 3])
        try backend.fill(try y.rows(1..<2), with: 7)
        #expect(try backend.floats(x) == [0, 1, 2, 3, 4, 5, 7, 7, 7, 7, 7, 7])
    }

    @Test func rowsViewsALeadingSlice() throws {
        let x = try backend.tensor((0..<12).map(Float.init), shape: [4, 3])
        let middle = try x.rows(1..<3)
        #expect(middle.shape == [2, 3])
        #expect(try backend.floats(middle) == [3, 4, 5, 6, 7, 8])
        #expect(try backend.floats(try middle.rows(1..<2)) == [6, 7, 8], "a view of a view keeps the offset")
        #expect(try x.rows(4..<4).count == 0)
    }

    @Test func badReshapesThrow() throws {
        let x = try backend.zeros([3, 4])
        for shape in [[5, 2], [-1, 5], [-1, -1], [0, -1], [13]] {
            let error = #expect(throws: TensorError.self, "reshape to \(shape)") { try x.reshaped(shape) }
            #expect(error?.description.contains("reshape") == true)
            #expect(error?.description.contains("[3, 4]") == true, "the message names the original shape")
        }
    }

    @Test func badRowRangesThrow() throws {
        let x = try backend.zeros([3, 4])
        let error = #expect(throws: TensorError.self) { try x.rows(2..<4) }
        #expect(error?.description.contains("rows(2..<4)") == true)
        #expect(error?.description.contains("[3, 4]") == true)
        #expect(throws: TensorError.self) { try backend.zeros([]).rows(0..<1) }
    }

    @Test func negativeDimensionsAreInvalid() {
        let error = #expect(throws: TensorError.self) { try backend.zeros([2, -3]) }
        #expect(error?.description.contains("non-negative") == true)
    }
}
