extension QRCode {
    /// The symbol as an SVG image for inline use in a page.
    ///
    /// One `<path>` draws each row's dark runs as rectangles on a white background, with
    /// `crispEdges` so scaled modules stay sharp; `role="img"` and `<title>` give screen readers a name.
    /// - Parameters:
    ///   - title: The accessible name, e.g. "QR code for your authenticator app".
    ///   - quietZone: Light modules around the symbol; the standard asks for 4.
    ///   - moduleSize: Pixels per module for the `width`/`height` attributes.
    public func svg(title: String, quietZone: Int = 4, moduleSize: Int = 4) -> String {
        let side = size + 2 * quietZone
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard self[x, y] else {
                    x += 1
                    continue
                }
                var run = 1
                while self[x + run, y] { run += 1 }
                path += "M\(x + quietZone) \(y + quietZone)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let pixels = side * moduleSize
        return """
            <svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 \(side) \(side)" \
            width="\(pixels)" height="\(pixels)" shape-rendering="crispEdges">\
            <title>\(Self.escapeXML(title))</title>\
            <rect width="\(side)" height="\(side)" fill="#fff"/>\
            <path fill="#000" d="\(path)"/></svg>
            """
    }

    /// The symbol as lines of Unicode half blocks, two module rows per line.
    ///
    /// By default light modules are drawn as blocks (the terminal's foreground), which suits the
    /// usual light-on-dark terminal; `invert` suits dark text on a light background.
    /// - Parameters:
    ///   - quietZone: Light modules around the symbol; scanners read terminals with 2.
    ///   - invert: Draw dark modules as blocks instead.
    public func terminalText(quietZone: Int = 2, invert: Bool = false) -> String {
        let range = -quietZone..<(size + quietZone)
        var lines: [String] = []
        for y in stride(from: range.lowerBound, to: range.upperBound, by: 2) {
            var line = ""
            for x in range {
                let top = self[x, y] == invert
                let bottom = y + 1 < range.upperBound && self[x, y + 1] == invert
                line += top ? (bottom ? "█" : "▀") : (bottom ? "▄" : " ")
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escapeXML(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            default: output.append(character)
            }
        }
        return output
    }
}
