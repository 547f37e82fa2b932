import SwiftTuneTensor

/// One of AdamW's parameter groups kept in flat buffers, so the optimizer's step, the gradient norm and zeroing the
/// gradients are one launch per group instead of one per tensor (PyTorch's "fused" AdamW over flattened parameters;
/// a 7B model's LoRA has ~400 factors).
///
/// Every member's value and gradient become views of the group's f32 `[count]` buffers (`values`, `gradients`), at
/// offsets rounded up to `alignment` elements so each view keeps the alignment GEMMs want; the gaps are zero in all
/// four buffers and stay zero under AdamW (a zero gradient, moments and value give a zero update). The moments are
/// flat too, and the per-parameter moments are views of them.
struct FlatParameterGroup {
    /// Elements each member's slice starts on a multiple of (256 bytes of f32).
    static let alignment = 64

    /// Indices into the optimizer's parameter list.
    let members: [Int]
    let decays: Bool
    let values: Tensor
    let gradients: Tensor
    let firstMoment: Tensor
    let secondMoment: Tensor
    /// Per member, in `members` order: its first and second moment, views of the flat moments.
    let memberMoments: [(first: Tensor, second: Tensor)]

    /// Moves `parameters[members]` into new flat buffers (copying their values and gradients), or returns nil when
    /// one of them cannot join: frozen (no gradient) or not f32.
    static func make(_ parameters: [Parameter], members: [Int], decays: Bool) throws -> FlatParameterGroup? {
        guard let first = members.first else { return nil }
        let chosen = members.map { parameters[$0] }
        guard chosen.allSatisfy({ $0.value.dtype == .f32 && $0.gradient?.dtype == .f32 }) else { return nil }
        var offsets: [Int] = []
        var total = 0
        for parameter in chosen {
            offsets.append(total)
            total += (parameter.value.count + alignment - 1) / alignment * alignment
        }
        let backend = parameters[first].value.backend
        let buffers = try (0..<4).map { _ in try backend.zeros([total], dtype: .f32) }
        var moments: [(Tensor, Tensor)] = []
        for (parameter, offset) in zip(chosen, offsets) {
            func view(_ buffer: Tensor) throws -> Tensor {
                try buffer.rows(offset..<(offset + parameter.value.count)).reshaped(parameter.shape)
            }
            try parameter.rehome(value: view(buffers[0]), gradient: view(buffers[1]))
            moments.append((try view(buffers[2]), try view(buffers[3])))
        }
        return FlatParameterGroup(members: members, decays: decays, values: buffers[0], gradients: buffers[1],
                                  firstMoment: buffers[2], secondMoment: buffers[3], memberMoments: moments)
    }
}
