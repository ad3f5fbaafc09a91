import ChildProcessSupport
import Foundation
import Testing

@testable import TwoStepCore

@Suite("QR codes")
struct QRCodeTests {
    // MARK: Structure, against ISO/IEC 18004's tables

    /// Byte-mode capacities from ISO/IEC 18004 Table 7.
    @Test(
        "byte capacities",
        arguments: [
            (1, QRCode.ErrorCorrection.low, 17), (1, .medium, 14), (1, .quartile, 11), (1, .high, 7),
            (2, .low, 32), (5, .quartile, 60), (10, .medium, 213), (25, .high, 535), (27, .low, 1_465),
            (40, .low, 2_953), (40, .medium, 2_331), (40, .quartile, 1_663), (40, .high, 1_273),
        ]
    )
    func capacity(version: Int, level: QRCode.ErrorCorrection, bytes: Int) throws {
        #expect(QRCode.capacity(version: version, level) == bytes)
        // The smallest version holding `bytes` is this one.
        let code = try QRCode(bytes: Array(repeating: 0x41, count: bytes), errorCorrection: level)
        #expect(code.version == version)
        #expect(code.size == 17 + 4 * version)
    }

    @Test func tooMuchDataIsRefused() {
        #expect(throws: QRCodeError.dataTooLong) { try QRCode(bytes: Array(repeating: 0, count: 2_954), errorCorrection: .low) }
        #expect(throws: QRCodeError.dataTooLong) { try QRCode(bytes: Array(repeating: 0, count: 1_274), errorCorrection: .high) }
        #expect(throws: QRCodeError.invalidMask) { try QRCode(bytes: [1], mask: 8) }
        #expect(throws: QRCodeError.invalidMask) { try QRCode(bytes: [1], mask: -1) }
    }

    /// Total codewords per version (Table 1) follow from the module count.
    @Test func rawCodewords() {
        let expected = [1: 26, 2: 44, 6: 172, 7: 196, 14: 581, 21: 1_156, 32: 2_465, 35: 2_876, 40: 3_706]
        for (version, codewords) in expected {
            #expect(QRCode.rawDataModules(version: version) / 8 == codewords)
        }
    }

    /// Annex E, Table E.1.
    @Test func alignmentPatternPositions() {
        #expect(QRCode.alignmentPositions(version: 1) == [])
        #expect(QRCode.alignmentPositions(version: 2) == [6, 18])
        #expect(QRCode.alignmentPositions(version: 7) == [6, 22, 38])
        #expect(QRCode.alignmentPositions(version: 15) == [6, 26, 48, 70])
        #expect(QRCode.alignmentPositions(version: 32) == [6, 34, 60, 86, 112, 138])
        #expect(QRCode.alignmentPositions(version: 36) == [6, 24, 50, 76, 102, 128, 154])
        #expect(QRCode.alignmentPositions(version: 39) == [6, 26, 54, 82, 110, 138, 166])
        #expect(QRCode.alignmentPositions(version: 40) == [6, 30, 58, 86, 114, 142, 170])
    }

    @Test func functionPatterns() throws {
        let code = try QRCode(text: "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
        let last = code.size - 1
        for (x, y) in [(0, 0), (last, 0), (0, last)] {
            #expect(code[x, y], "finder corner")
        }
        #expect(code[3, 3] && !code[1, 1] && !code[7, 7], "finder centre, ring, separator")
        for index in 8...(last - 8) {
            #expect(code[index, 6] == (index % 2 == 0), "horizontal timing")
            #expect(code[6, index] == (index % 2 == 0), "vertical timing")
        }
        #expect(code[8, code.size - 8], "the dark module")
        #expect(!code[-1, 0] && !code[0, code.size], "outside is quiet zone")
    }

    /// The format information read back from both copies decodes to the level and mask used.
    @Test func formatInformation() throws {
        for level in QRCode.ErrorCorrection.allCases {
            for mask in 0...7 {
                let code = try QRCode(text: "format", errorCorrection: level, mask: mask)
                var first = 0
                var second = 0
                var firstPositions: [(Int, Int)] = (0...5).map { (8, $0) }
                firstPositions += [(8, 7), (8, 8), (7, 8)]
                firstPositions += (9..<15).map { (14 - $0, 8) }
                var secondPositions: [(Int, Int)] = (0..<8).map { (code.size - 1 - $0, 8) }
                secondPositions += (8..<15).map { (8, code.size - 15 + $0) }
                for (bit, position) in firstPositions.enumerated() where code[position.0, position.1] { first |= 1 << bit }
                for (bit, position) in secondPositions.enumerated() where code[position.0, position.1] { second |= 1 << bit }
                #expect(first == second)
                #expect(first == Int(Self.formatStrings[level.rawValue][mask], radix: 2))
                #expect(code.mask == mask)
            }
        }
    }

    /// ISO/IEC 18004 Annex C, Table C.1: the 15-bit format strings (most significant bit first) for
    /// levels L, M, Q, H and masks 0–7, after the 0x5412 XOR.
    static let formatStrings = [
        [
            "111011111000100", "111001011110011", "111110110101010", "111100010011101",
            "110011000101111", "110001100011000", "110110001000001", "110100101110110",
        ],
        [
            "101010000010010", "101000100100101", "101111001111100", "101101101001011",
            "100010111111001", "100000011001110", "100111110010111", "100101010100000",
        ],
        [
            "011010101011111", "011000001101000", "011111100110001", "011101000000110",
            "010010010110100", "010000110000011", "010111011011010", "010101111101101",
        ],
        [
            "001011010001001", "001001110111110", "001110011100111", "001100111010000",
            "000011101100010", "000001001010101", "000110100001100", "000100000111011",
        ],
    ]

    /// Annex D, Table D.1: version information for versions 7, 8, 21 and 40, read from both blocks.
    @Test(arguments: [(7, 0x07C94), (8, 0x085BC), (21, 0x15683), (40, 0x28C69)])
    func versionInformation(version: Int, expected: Int) throws {
        let capacity = QRCode.capacity(version: version, .low)
        let code = try QRCode(bytes: Array(repeating: 0x5A, count: capacity), errorCorrection: .low)
        #expect(code.version == version)
        var topRight = 0
        var bottomLeft = 0
        for bit in 0..<18 {
            if code[code.size - 11 + bit % 3, bit / 3] { topRight |= 1 << bit }
            if code[bit / 3, code.size - 11 + bit % 3] { bottomLeft |= 1 << bit }
        }
        #expect(topRight == expected)
        #expect(bottomLeft == expected)
    }

    @Test func automaticMaskIsTheLowestPenalty() throws {
        // Not a fixed mask: different payloads pick different masks.
        let masks = Set(try (0..<40).map { try QRCode(text: "payload \($0)").mask })
        #expect(masks.count > 2)
    }

    // MARK: Rendering

    @Test func svgIsAccessibleAndEscaped() throws {
        let code = try QRCode(text: "hello")
        let svg = code.svg(title: "Scan <me> & \"go\"", quietZone: 4, moduleSize: 5)
        let side = code.size + 8
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(side) \(side)\""))
        #expect(svg.contains("width=\"\(side * 5)\""))
        #expect(svg.contains("<title>Scan &lt;me&gt; &amp; &quot;go&quot;</title>"))
        #expect(svg.contains("shape-rendering=\"crispEdges\""))
        #expect(!svg.contains("<script"))
        // The top-left finder's first row is a run of 7 dark modules starting at the quiet zone.
        #expect(svg.contains("M4 4h7v1h-7z"))
    }

    @Test func terminalTextReadsBackAsTheSymbol() throws {
        let code = try QRCode(text: "otpauth://totp/x?secret=ABCDEFGH")
        for invert in [false, true] {
            let lines = code.terminalText(quietZone: 2, invert: invert).split(separator: "\n").map(Array.init)
            #expect(lines.count == (code.size + 4 + 1) / 2)
            for (row, line) in lines.enumerated() {
                #expect(line.count == code.size + 4)
                for (column, character) in line.enumerated() {
                    let x = column - 2
                    let top = row * 2 - 2
                    let (upper, lower): (Bool, Bool) =
                        switch character {
                        case "█": (true, true)
                        case "▀": (true, false)
                        case "▄": (false, true)
                        default: (false, false)
                        }
                    // A drawn half is a light module (dark ones when inverted).
                    #expect(upper == (code[x, top] == invert))
                    if top + 1 < code.size + 2 { #expect(lower == (code[x, top + 1] == invert)) }
                }
            }
        }
    }

    // MARK: Decoding with a real reader

    /// Writes the symbol as a binary PGM image, `scale` pixels per module, 4 modules of quiet zone.
    static func pgm(_ code: QRCode, scale: Int) -> Data {
        let side = (code.size + 8) * scale
        var data = Data("P5\n\(side) \(side)\n255\n".utf8)
        for py in 0..<side {
            for px in 0..<side {
                data.append(code[px / scale - 4, py / scale - 4] ? 0 : 255)
            }
        }
        return data
    }

    /// Decodes an image file with zbarimg as raw bytes (`-Sbinary`: no charset guessing and no
    /// newline added). Only the QR decoder runs: others find false barcodes in random modules.
    static func zbar(_ file: URL) throws -> [UInt8]? {
        let output = try ExternalTool.run("zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary", file.path])
        return output.status == 0 ? Array(output.stdout) : nil
    }

    /// Encodes, renders at a few scales (zbar is picky about size) and decodes; returns what was read.
    static func roundTrip(_ payload: [UInt8], level: QRCode.ErrorCorrection, directory: URL, name: String) throws -> [UInt8]? {
        let code = try QRCode(bytes: payload, errorCorrection: level)
        for scale in [3, 4, 2, 6] {
            let file = directory.appendingPathComponent("\(name)-\(scale).pgm")
            try pgm(code, scale: scale).write(to: file)
            if let decoded = try zbar(file) { return decoded }
        }
        return nil
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Random payloads: printable ASCII, UTF-8 text, and arbitrary bytes.
    static func randomPayload(length: Int, kind: Int) -> [UInt8] {
        switch kind % 3 {
        case 0:
            return (0..<length).map { _ in UInt8.random(in: 0x20...0x7E) }
        case 1:
            let alphabet = Array("aé€𝄞 ZüñΩж中🔐-_/?&=%")
            var bytes: [UInt8] = []
            while true {
                let next = Array(String(alphabet.randomElement()!).utf8)
                if bytes.count + next.count > length { break }
                bytes += next
            }
            return bytes.isEmpty ? [0x61] : bytes
        default:
            return (0..<length).map { _ in UInt8.random(in: 0...255) }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test(
        "zbarimg reads back 240 random payloads of 1–1,000 bytes at every level",
        .enabled(if: ExternalTool.available("zbarimg"), "zbarimg is not installed (apt-get install zbar-tools)")
    )
    func zbarDecodesRandomPayloads() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases = (0..<240).map { index -> (payload: [UInt8], level: QRCode.ErrorCorrection) in
            // Lengths spread over the whole range, with the short ones well covered.
            let length = index < 40 ? index + 1 : Int.random(in: 1...1_000)
            return (Self.randomPayload(length: length, kind: index), QRCode.ErrorCorrection.allCases[index % 4])
        }
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: cases.count) { index in
            let (payload, level) = cases[index]
            let decoded = try? Self.roundTrip(payload, level: level, directory: directory, name: "case\(index)")
            if decoded != payload {
                failures.withValue {
                    $0.append("case \(index) at \(level): \(Self.hex(payload)) read as \(decoded.map(Self.hex) ?? "nothing")")
                }
            }
        }
        #expect(failures.value.isEmpty, "\(failures.value)")
    }

    @Test(
        "zbarimg reads real key URIs with every mask",
        .enabled(if: ExternalTool.available("zbarimg"), "zbarimg is not installed (apt-get install zbar-tools)")
    )
    func zbarDecodesKeyURIs() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for mask in 0...7 {
            let uri = OTPKeyURI(
                secret: SecureRandom.bytes(20),
                account: "user\(mask)@example.com",
                issuer: "TwoStep Ünïcødé & Co",
                algorithm: .allCases[mask % 3],
                digits: 6 + mask % 3
            ).description
            let code = try QRCode(text: uri, errorCorrection: .medium, mask: mask)
            let file = directory.appendingPathComponent("uri\(mask).pgm")
            try Self.pgm(code, scale: 4).write(to: file)
            #expect(try Self.zbar(file) == Array(uri.utf8), "mask \(mask)")
        }
    }

    @Test(
        "the SVG rendering itself scans",
        .enabled(if: ExternalTool.available("zbarimg", "rsvg-convert"), "needs zbarimg and rsvg-convert (librsvg2-bin)")
    )
    func svgScans() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, length) in [10, 80, 300].enumerated() {
            let text = String((0..<length).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789:/?&=".randomElement()! })
            let svg = directory.appendingPathComponent("\(index).svg")
            let png = directory.appendingPathComponent("\(index).png")
            try Data(QRCode(text: text).svg(title: "QR").utf8).write(to: svg)
            let converted = try ExternalTool.run("rsvg-convert", [svg.path, "-o", png.path])
            #expect(converted.status == 0, "\(converted.stderr)")
            #expect(try Self.zbar(png) == Array(text.utf8))
        }
    }
}

/// A value shared between threads.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func withValue<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.withLock { body(&stored) }
    }
}
