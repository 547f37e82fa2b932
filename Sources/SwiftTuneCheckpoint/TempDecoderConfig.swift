// Temporary stand-in until the checkpoint branch lands (deleted at merge).
public enum RopeScaling: Sendable, Equatable {
    case none
    case linear(factor: Double)
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int)
    case yarn(factor: Double, originalMaxPositionEmbeddings: Int, betaFast: Double, betaSlow: Double, attentionFactor: Double?)
    case dynamic(factor: Double)
}

public struct DecoderConfig: Sendable, Equatable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    public var maxPositionEmbeddings: Int
    public var attentionBias: Bool
    public var outputProjectionBias: Bool
    public var mlpBias: Bool
    public var qkNorm: Bool
    public var tieWordEmbeddings: Bool
    public var layerSlidingWindows: [Int?]
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    public var torchDtype: String?
}
