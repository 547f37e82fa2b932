import Testing
import SwiftTuneCPU
import SwiftTuneTensor

/// The single-process `Communicator`: every collective is the identity in a world of one rank, with the shape checks
/// an NCCL communicator will share.
@Suite("Single-process communicator")
struct CommunicatorTests {
    let backend = CPUBackend(threadCount: 1)
    let communicator: any Communicator = SingleProcessCommunicator()

    @Test func aWorldOfOneRank() throws {
        #expect(communicator.rank == 0)
        #expect(communicator.worldSize == 1)
        try communicator.barrier()
    }

    @Test func collectivesCopyTheInputOrLeaveItInPlace() throws {
        let values: [Float] = [1.5, -2, 0.25, 8, -0.0, 3]
        for operation in ReductionOperation.allCases {
            let input = try backend.tensor(values, shape: [2, 3]), output = try backend.zeros([6])
            try communicator.allReduce(input, into: output, operation: operation)
            #expect(try backend.floats(output).map(\.bitPattern) == values.map(\.bitPattern), "allReduce \(operation)")
            try communicator.allReduce(input, into: input, operation: operation)
            #expect(try backend.floats(input) == values, "allReduce \(operation) in place")
            let shard = try backend.zeros([3, 2])
            try communicator.reduceScatter(input, into: shard, operation: operation)
            #expect(try backend.floats(shard) == values, "reduceScatter \(operation)")
        }
        let gathered = try backend.zeros([6])
        try communicator.allGather(try backend.tensor(values, shape: [6]), into: gathered)
        #expect(try backend.floats(gathered) == values)
        let broadcast = try backend.tensor(values, shape: [6])
        try communicator.broadcast(broadcast, root: 0)
        #expect(try backend.floats(broadcast) == values)
        // Other float dtypes go through unchanged too.
        let halves = try backend.tensor(values, shape: [6], dtype: .bf16), copy = try backend.zeros([6], dtype: .bf16)
        try communicator.allReduce(halves, into: copy, operation: .average)
        #expect(try backend.bytes(copy) == backend.bytes(halves))
    }

    @Test func badArgumentsNameTheCollective() throws {
        func message(_ body: () throws -> Void) -> String {
            (#expect(throws: TensorError.self) { try body() })?.description ?? ""
        }
        let x = try backend.zeros([4])
        #expect(message { try communicator.allReduce(x, into: try backend.zeros([3]), operation: .sum) }
            .contains("allReduce output: expected shape 4 elements, got [3]"))
        #expect(message { try communicator.allReduce(x, into: try backend.zeros([4], dtype: .f64), operation: .sum) }
            .contains("allReduce output: expected dtype f32, got f64"))
        #expect(message { try communicator.allReduce(try backend.tensor([1, 2] as [Int32], shape: [2]), into: x,
                                                     operation: .sum) }
            .contains("allReduce input: expected dtype a float dtype, got i32"))
        #expect(message { try communicator.reduceScatter(x, into: try backend.zeros([2]), operation: .sum) }
            .contains("reduceScatter input (worldSize 1 × output): expected shape 2 elements, got [4]"))
        #expect(message { try communicator.allGather(x, into: try backend.zeros([8])) }
            .contains("allGather output (worldSize 1 × input): expected shape 4 elements, got [8]"))
        #expect(message { try communicator.broadcast(x, root: 1) }.contains("broadcast root: index 1 out of range 0..<1"))
        #expect(message { try communicator.allGather(x, into: try CPUBackend(threadCount: 1).zeros([4])) }
            .contains("allGather from cpu into cpu"))
    }
}
