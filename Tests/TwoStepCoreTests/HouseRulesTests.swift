import Foundation
import Testing

/// House rules about the tests themselves (STYLE.md), checked on every `swift test` rather than hoped for.
@Suite("House rules for tests")
struct HouseRulesTests {
    /// Every Swift file under `Tests/`, as lines.
    static func testSources() throws -> [(name: String, lines: [String])] {
        let root = ExternalTool.packageRoot.appendingPathComponent("Tests")
        let files = (FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.allObjects ?? [])
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        return try files.map { file in
            (String(file.path.dropFirst(root.path.count + 1)), try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n"))
        }
    }

    static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

    /// Whether the function declared at `index` is a `@Test`: its attribute is on the same line or
    /// just above (arguments may span lines, indented deeper, and end with `)`).
    static func isTest(_ lines: [String], at index: Int) -> Bool {
        if lines[index].contains("@Test") { return true }
        let level = indentation(lines[index])
        for line in lines[..<index].reversed() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || indentation(line) > level { continue }
            if text.hasPrefix("@Test") { return true }
            if !(text.hasPrefix("@") || text.hasPrefix(")")) { return false }
        }
        return false
    }

    /// The function's text: swift-format puts the closing brace on its own line at the `func`'s indentation.
    static func body(_ lines: [String], from index: Int) -> String {
        let level = indentation(lines[index])
        var end = index
        if !lines[index].trimmingCharacters(in: .whitespaces).hasSuffix("}") {
            end =
                lines[(index + 1)...].firstIndex { indentation($0) == level && $0.trimmingCharacters(in: .whitespaces).hasPrefix("}") } ?? lines.count
                - 1
        }
        // Comments may name the macros; only code counts.
        return lines[index...end].filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
    }

    /// The argument lists of the `#expect`, `#require` and `Issue.record` calls in `text`
    /// (a call with only a trailing closure gives an empty list).
    static func assertionArguments(in text: String) -> [Substring] {
        text.matches(of: /(#expect|#require|Issue\.record)\s*[({]/).map { call in
            guard text[text.index(before: call.range.upperBound)] == "(" else { return text[call.range.upperBound..<call.range.upperBound] }
            let open = text.index(before: call.range.upperBound)
            var depth = 0
            for position in text[open...].indices {
                if text[position] == "(" { depth += 1 }
                if text[position] == ")" { depth -= 1 }
                if depth == 0 { return text[open...position] }
            }
            return text[open...]
        }
    }

    /// A helper that asserts takes `sourceLocation: SourceLocation = #_sourceLocation` and hands it to
    /// each assertion, so a failure is reported at the test that called it, not inside the helper.
    @Test func helpersThatAssertReportAtTheCaller() throws {
        let sources = try Self.testSources()
        try #require(sources.contains { $0.name.hasSuffix("TestSupport.swift") }, "the scan finds the test sources")
        var helpers: [String] = []
        var offenders: [String] = []
        for (name, lines) in sources {
            for (index, line) in lines.enumerated() where line.contains(/^\s*(@\w+\s+|[a-z]+\s+)*func\s/) && !Self.isTest(lines, at: index) {
                let text = Self.body(lines, from: index)
                let arguments = Self.assertionArguments(in: text)
                guard !arguments.isEmpty else { continue }
                helpers.append("\(name):\(index + 1)")
                if !text.contains("sourceLocation: SourceLocation") || arguments.contains(where: { !$0.contains("sourceLocation:") }) {
                    offenders.append("\(name):\(index + 1)")
                }
            }
        }
        #expect(helpers.count >= 5, "the scan recognises helpers: \(helpers)")
        #expect(offenders.isEmpty, "helpers that assert without the caller's sourceLocation: \(offenders)")
    }
}
