/// How QLoRA stores a model's linear weights: bitsandbytes' `BitsAndBytesConfig(load_in_4bit=True, …)`.
///
/// ```swift
/// let qlora = FourBitQuantization()  // NF4, double quantization, blocks of 64: `--train_type qlora`
/// let model = try DecoderModel.load(directory: folder, backend: backend, precision: .bf16, fourBit: qlora)
/// ```
public struct FourBitQuantization: Sendable, Hashable, CustomStringConvertible {
    /// `bnb_4bit_quant_type` (nf4 or fp4).
    public var quantType: FourBitQuantType
    /// `bnb_4bit_use_double_quant`: the absmax of each block stored as an 8-bit code (about 0.37 bits a weight saved).
    public var doubleQuantization: Bool
    /// Values per absmax (bitsandbytes' 64).
    public var blockSize: Int

    public init(quantType: FourBitQuantType = .nf4, doubleQuantization: Bool = true,
                blockSize: Int = BitsAndBytes4Bit.defaultBlockSize) {
        self.quantType = quantType
        self.doubleQuantization = doubleQuantization
        self.blockSize = blockSize
    }

    public var description: String {
        "\(quantType)\(doubleQuantization ? " with double quantization" : ""), blocks of \(blockSize)"
    }
}
