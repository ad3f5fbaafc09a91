/// A QR code (ISO/IEC 18004) in byte mode: versions 1–40, error-correction levels L/M/Q/H, with
/// the version and mask chosen automatically. No library on this platform draws one, and an
/// enrolment page needs it for the `otpauth://` URI.
public struct QRCode: Sendable {
    /// How much of the symbol may be damaged and still read: about 7, 15, 25 and 30 %.
    public enum ErrorCorrection: Int, Sendable, CaseIterable {
        case low, medium, quartile, high

        /// The two format-information bits (ISO/IEC 18004 Table 12).
        fileprivate var formatBits: Int {
            switch self {
            case .low: 1
            case .medium: 0
            case .quartile: 3
            case .high: 2
            }
        }
    }

    /// The version (1–40): the symbol is `17 + 4 × version` modules wide.
    public let version: Int
    public let errorCorrection: ErrorCorrection
    /// The data mask pattern (0–7) applied.
    public let mask: Int
    /// Modules per side, without the quiet zone.
    public var size: Int { 17 + 4 * version }
    /// Row-major, `true` for a dark module.
    private let modules: [Bool]

    /// Whether the module at column `x`, row `y` is dark. Outside the symbol (the quiet zone) is light.
    public subscript(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// Encodes text as its UTF-8 bytes.
    public init(text: String, errorCorrection: ErrorCorrection = .medium, mask: Int? = nil) throws(QRCodeError) {
        try self.init(bytes: Array(text.utf8), errorCorrection: errorCorrection, mask: mask)
    }

    /// Encodes bytes in the smallest version that holds them.
    /// - Parameters:
    ///   - bytes: The payload, at most 2,953 bytes (version 40 at level L).
    ///   - errorCorrection: The error-correction level.
    ///   - mask: A fixed mask pattern; by default the one with the lowest penalty (§7.8.3) is used.
    public init(bytes: [UInt8], errorCorrection: ErrorCorrection = .medium, mask: Int? = nil) throws(QRCodeError) {
        if let mask, !(0...7).contains(mask) { throw .invalidMask }
        guard let version = (1...40).first(where: { Self.fits(bytes.count, version: $0, errorCorrection) }) else {
            throw .dataTooLong
        }
        let codewords = Self.codewords(for: bytes, version: version, errorCorrection)
        var matrix = ModuleMatrix(version: version)
        matrix.drawFunctionPatterns()
        matrix.drawCodewords(codewords)

        let chosen =
            mask
            ?? (0...7).map { (mask: $0, penalty: matrix.penalty(mask: $0, errorCorrection)) }
            .min { $0.penalty < $1.penalty }!.mask
        matrix.applyMask(chosen)
        matrix.drawFormatBits(mask: chosen, errorCorrection)

        self.version = version
        self.errorCorrection = errorCorrection
        self.mask = chosen
        self.modules = matrix.modules
    }

    /// The most bytes a symbol of a version (1–40) holds at a level.
    public static func capacity(version: Int, _ errorCorrection: ErrorCorrection) -> Int {
        precondition((1...40).contains(version), "QR code versions are 1 to 40")
        return (dataCodewords(version: version, errorCorrection) * 8 - 4 - characterCountBits(version: version)) / 8
    }

    private static func fits(_ count: Int, version: Int, _ errorCorrection: ErrorCorrection) -> Bool {
        count <= capacity(version: version, errorCorrection)
    }

    /// Byte mode's character count indicator is 8 bits up to version 9, 16 bits after (Table 3).
    private static func characterCountBits(version: Int) -> Int { version <= 9 ? 8 : 16 }

    // MARK: - Codewords

    /// Data bits (mode, count, payload, terminator, padding) split into blocks, each given its
    /// error-correction codewords, then interleaved (§7.6).
    private static func codewords(for bytes: [UInt8], version: Int, _ errorCorrection: ErrorCorrection) -> [UInt8] {
        let capacityBits = dataCodewords(version: version, errorCorrection) * 8
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)  // byte mode
        bits.append(bytes.count, count: characterCountBits(version: version))
        for byte in bytes { bits.append(Int(byte), count: 8) }
        bits.append(0, count: min(4, capacityBits - bits.count))  // terminator
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var data = bits.bytes
        for pad in [UInt8]([0xEC, 0x11]).cycled(to: capacityBits / 8 - data.count) { data.append(pad) }

        let level = errorCorrection.rawValue
        let blockCount = QRTables.blockCount[level][version]
        let errorCorrectionLength = QRTables.errorCorrectionPerBlock[level][version]
        let total = rawDataModules(version: version) / 8
        let shortBlocks = blockCount - total % blockCount
        let shortDataLength = total / blockCount - errorCorrectionLength
        let encoder = ReedSolomon(degree: errorCorrectionLength)

        var dataBlocks: [ArraySlice<UInt8>] = []
        var start = 0
        for block in 0..<blockCount {
            let length = shortDataLength + (block < shortBlocks ? 0 : 1)
            dataBlocks.append(data[start..<start + length])
            start += length
        }
        let errorBlocks = dataBlocks.map { encoder.errorCorrection(for: $0) }

        var result: [UInt8] = []
        result.reserveCapacity(total)
        for index in 0...shortDataLength {
            for block in dataBlocks where index < block.count {
                result.append(block[block.startIndex + index])
            }
        }
        for index in 0..<errorCorrectionLength {
            for block in errorBlocks { result.append(block[index]) }
        }
        return result
    }

    private static func dataCodewords(version: Int, _ errorCorrection: ErrorCorrection) -> Int {
        let level = errorCorrection.rawValue
        return rawDataModules(version: version) / 8
            - QRTables.errorCorrectionPerBlock[level][version] * QRTables.blockCount[level][version]
    }

    /// Modules left for codewords once function patterns and format/version areas are taken.
    static func rawDataModules(version: Int) -> Int {
        var modules = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            modules -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { modules -= 36 }
        }
        return modules
    }

    /// Centre coordinates of alignment patterns on each axis (Annex E): the first at 6, the last
    /// 7 from the far edge, the rest evenly spaced by an even step.
    static func alignmentPositions(version: Int) -> [Int] {
        guard version > 1 else { return [] }
        let count = version / 7 + 2
        let step = version == 32 ? 26 : (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
        let last = 17 + 4 * version - 7
        return [6] + (0..<count - 1).reversed().map { last - $0 * step }
    }
}

/// Why a QR code cannot be made.
public struct QRCodeError: Error, Equatable, CustomStringConvertible {
    private enum Kind { case dataTooLong, invalidMask }
    private let kind: Kind

    /// More bytes than version 40 holds at the chosen level.
    public static let dataTooLong = Self(kind: .dataTooLong)
    /// A mask outside 0–7.
    public static let invalidMask = Self(kind: .invalidMask)

    public var description: String {
        switch kind {
        case .dataTooLong: "the text is too long for a QR code at this error-correction level"
        case .invalidMask: "the mask pattern must be 0 to 7"
        }
    }
}

// MARK: - Matrix

/// The symbol while it is drawn: which modules are dark, and which belong to function patterns
/// (and so are skipped by data placement and masking).
private struct ModuleMatrix {
    let version: Int
    let size: Int
    var modules: [Bool]
    var isFunction: [Bool]

    init(version: Int) {
        self.version = version
        self.size = 17 + 4 * version
        self.modules = Array(repeating: false, count: size * size)
        self.isFunction = Array(repeating: false, count: size * size)
    }

    subscript(x: Int, y: Int) -> Bool {
        get { modules[y * size + x] }
        set { modules[y * size + x] = newValue }
    }

    mutating func setFunction(_ x: Int, _ y: Int, dark: Bool) {
        modules[y * size + x] = dark
        isFunction[y * size + x] = true
    }

    mutating func drawFunctionPatterns() {
        for index in 0..<size {
            setFunction(6, index, dark: index % 2 == 0)  // timing patterns
            setFunction(index, 6, dark: index % 2 == 0)
        }
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            drawFinder(centreX: x, centreY: y)
        }
        let positions = QRCode.alignmentPositions(version: version)
        for (i, y) in positions.enumerated() {
            for (j, x) in positions.enumerated() {
                let overlapsFinder =
                    (i == 0 && j == 0) || (i == 0 && j == positions.count - 1) || (i == positions.count - 1 && j == 0)
                if !overlapsFinder { drawAlignment(centreX: x, centreY: y) }
            }
        }
        drawFormatBits(mask: 0, .low)  // reserves the area; redrawn once the mask is chosen
        drawVersionBits()
    }

    /// A 7×7 finder pattern with its light separator, clipped at the symbol's edge.
    private mutating func drawFinder(centreX: Int, centreY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = centreX + dx
                let y = centreY + dy
                guard x >= 0, x < size, y >= 0, y < size else { continue }
                let ring = max(abs(dx), abs(dy))
                setFunction(x, y, dark: ring != 2 && ring != 4)
            }
        }
    }

    private mutating func drawAlignment(centreX: Int, centreY: Int) {
        for dy in -2...2 {
            for dx in -2...2 {
                setFunction(centreX + dx, centreY + dy, dark: max(abs(dx), abs(dy)) != 1)
            }
        }
    }

    /// 15 format bits, a BCH(15,5) code of level and mask XORed with 0x5412 (§7.9), drawn twice.
    mutating func drawFormatBits(mask: Int, _ errorCorrection: QRCode.ErrorCorrection) {
        let data = errorCorrection.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }

        // Around the top-left finder.
        for index in 0...5 { setFunction(8, index, dark: bit(index)) }
        setFunction(8, 7, dark: bit(6))
        setFunction(8, 8, dark: bit(7))
        setFunction(7, 8, dark: bit(8))
        for index in 9..<15 { setFunction(14 - index, 8, dark: bit(index)) }
        // Split between the top-right and bottom-left finders.
        for index in 0..<8 { setFunction(size - 1 - index, 8, dark: bit(index)) }
        for index in 8..<15 { setFunction(8, size - 15 + index, dark: bit(index)) }
        setFunction(8, size - 8, dark: true)  // the dark module
    }

    /// Versions 7 and up carry their number as 18 bits, a BCH(18,6) code (§7.10), in two 6×3 blocks.
    private mutating func drawVersionBits() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = version << 12 | remainder
        for index in 0..<18 {
            let dark = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3
            let b = index / 3
            setFunction(a, b, dark: dark)
            setFunction(b, a, dark: dark)
        }
    }

    /// Places codeword bits in two-module columns, zig-zagging up and down from the bottom right,
    /// skipping the vertical timing column (§7.7.3).
    mutating func drawCodewords(_ codewords: [UInt8]) {
        let totalBits = codewords.count * 8
        var bitIndex = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            let upward = (right + 1) & 2 == 0
            for row in 0..<size {
                let y = upward ? size - 1 - row : row
                for x in [right, right - 1] where !isFunction[y * size + x] && bitIndex < totalBits {
                    self[x, y] = (codewords[bitIndex >> 3] >> (7 - UInt8(bitIndex & 7))) & 1 == 1
                    bitIndex += 1
                }
            }
            right -= 2
        }
    }

    /// Flips data modules where the mask's condition holds (Table 10); applying it twice undoes it.
    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y * size + x] {
                let flip =
                    switch mask {
                    case 0: (x + y) % 2 == 0
                    case 1: y % 2 == 0
                    case 2: x % 3 == 0
                    case 3: (x + y) % 3 == 0
                    case 4: (x / 3 + y / 2) % 2 == 0
                    case 5: x * y % 2 + x * y % 3 == 0
                    case 6: (x * y % 2 + x * y % 3) % 2 == 0
                    default: ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                if flip { self[x, y].toggle() }
            }
        }
    }

    /// The penalty score of the symbol with a mask applied (§7.8.3); lower reads more reliably.
    func penalty(mask: Int, _ errorCorrection: QRCode.ErrorCorrection) -> Int {
        var masked = self
        masked.applyMask(mask)
        masked.drawFormatBits(mask: mask, errorCorrection)
        return masked.penaltyScore()
    }

    private func penaltyScore() -> Int {
        var score = 0
        // N1: runs of five or more same-coloured modules in a row or column: 3 + (length − 5).
        // N3: the finder-like 1:1:3:1:1 pattern with four light modules on one side: 40.
        let finderLike: [[Bool]] = [
            [true, false, true, true, true, false, true, false, false, false, false],
            [false, false, false, false, true, false, true, true, true, false, true],
        ]
        for line in 0..<size {
            for horizontal in [true, false] {
                let module = { (index: Int) in horizontal ? self[index, line] : self[line, index] }
                var runLength = 1
                for index in 1...size {
                    if index < size, module(index) == module(index - 1) {
                        runLength += 1
                    } else {
                        if runLength >= 5 { score += runLength - 2 }
                        runLength = 1
                    }
                }
                for start in 0...(size - 11) {
                    for pattern in finderLike where (0..<11).allSatisfy({ module(start + $0) == pattern[$0] }) {
                        score += 40
                    }
                }
            }
        }
        // N2: each 2×2 block of one colour: 3.
        for y in 0..<size - 1 {
            for x in 0..<size - 1 {
                let colour = self[x, y]
                if colour == self[x + 1, y], colour == self[x, y + 1], colour == self[x + 1, y + 1] { score += 3 }
            }
        }
        // N4: 10 for each full 5 % the dark proportion strays from 50 %.
        let dark = modules.lazy.filter { $0 }.count
        score += 10 * (abs(dark * 100 / modules.count - 50) / 5)
        return score
    }
}

/// Bits appended most significant first.
private struct BitBuffer {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func append(_ value: Int, count length: Int) {
        for shift in stride(from: length - 1, through: 0, by: -1) {
            if count % 8 == 0 { bytes.append(0) }
            if (value >> shift) & 1 == 1 { bytes[count / 8] |= 0x80 >> UInt8(count % 8) }
            count += 1
        }
    }
}

extension Array {
    /// The elements repeated in order until `count` have been given.
    fileprivate func cycled(to count: Int) -> [Element] {
        (0..<Swift.max(0, count)).map { self[$0 % self.count] }
    }
}
