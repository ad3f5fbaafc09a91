/// Reed–Solomon error correction over GF(2⁸) with the QR code's field polynomial
/// x⁸ + x⁴ + x³ + x² + 1 (0x11D) and generator roots α⁰ … α^(n−1) (ISO/IEC 18004 §7.5.2).
struct ReedSolomon {
    /// The generator polynomial's coefficients, highest power first, leading 1 included.
    private let generator: [UInt8]

    /// α^i for i in 0..<255, and its inverse: multiplication becomes addition of logarithms.
    private static let (exp, log): ([UInt8], [UInt8]) = {
        var exp = [UInt8](repeating: 0, count: 255)
        var log = [UInt8](repeating: 0, count: 256)
        var value = 1
        for power in 0..<255 {
            exp[power] = UInt8(value)
            log[value] = UInt8(power)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        return (exp, log)
    }()

    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        guard a != 0, b != 0 else { return 0 }
        return exp[(Int(log[Int(a)]) + Int(log[Int(b)])) % 255]
    }

    /// - Parameter degree: The number of error-correction codewords a block gets.
    init(degree: Int) {
        var polynomial: [UInt8] = [1]
        for power in 0..<degree {
            // polynomial × (x + α^power)
            let root = Self.exp[power]
            var next = polynomial + [0]
            for index in 1..<next.count {
                next[index] ^= Self.multiply(polynomial[index - 1], root)
            }
            polynomial = next
        }
        generator = polynomial
    }

    /// The error-correction codewords for a block: the remainder of data(x)·xⁿ divided by the generator.
    func errorCorrection(for data: some Sequence<UInt8>) -> [UInt8] {
        let degree = generator.count - 1
        var remainder = [UInt8](repeating: 0, count: degree)
        for byte in data {
            let factor = byte ^ remainder[0]
            remainder.removeFirst()
            remainder.append(0)
            for index in 0..<degree {
                remainder[index] ^= Self.multiply(generator[index + 1], factor)
            }
        }
        return remainder
    }
}
