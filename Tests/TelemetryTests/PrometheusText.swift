// A strict parser of the Prometheus text exposition format, version 0.0.4,
// for checking what `/metrics` returns. It rejects what Prometheus would
// reject and a little more (samples without a TYPE, a family split in two,
// a series listed twice), since our output has no reason to do any of that.
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

/// A parsed exposition: families by name, in order of appearance.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var name: String
        var type: String
        var help: String?
        var samples: [Sample] = []
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var text: String
        var description: String { "line \(line): \(reason): \(text.debugDescription)" }
    }

    private(set) var families: [String: Family] = [:]
    private(set) var order: [String] = []

    static let types: Set<String> = ["counter", "gauge", "histogram", "summary", "untyped"]

    init(_ bytes: [UInt8]) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ParseError(line: 0, reason: "not UTF-8", text: "")
        }
        try self.init(text)
    }

    init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else {
            throw ParseError(line: 0, reason: "last line not terminated by \\n", text: String(text.suffix(40)))
        }
        var helps: [String: String] = [:]
        var seen: Set<String> = []
        var current: String?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            func fail(_ reason: String) -> ParseError { ParseError(line: number, reason: reason, text: String(line)) }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { continue }
                let name = String(parts[2])
                guard Self.isMetricName(name) else { throw fail("bad metric name") }
                let rest = parts.count > 3 ? String(parts[3]) : ""
                if parts[1] == "HELP" {
                    guard helps[name] == nil else { throw fail("second HELP") }
                    guard let help = Self.unescape(rest, quotes: false) else { throw fail("bad escape in HELP") }
                    helps[name] = help
                    families[name]?.help = help
                } else {
                    guard Self.types.contains(rest) else { throw fail("unknown type") }
                    guard families[name] == nil else { throw fail("second TYPE") }
                    guard !seen.contains(name) else { throw fail("TYPE after samples") }
                    families[name] = Family(name: name, type: rest, help: helps[name])
                    order.append(name)
                }
                continue
            }
            guard let sample = Self.parseSample(line) else { throw fail("malformed sample") }
            guard let family = family(of: sample.name) else { throw fail("sample without TYPE") }
            if family != current {
                guard !seen.contains(family) else { throw fail("family \(family) split in two") }
                seen.insert(family)
                current = family
            }
            guard !families[family]!.samples.contains(where: { $0.name == sample.name && $0.labels == sample.labels })
            else { throw fail("duplicate series") }
            families[family]!.samples.append(sample)
        }
    }

    /// The family a sample name belongs to: itself, or a histogram or summary
    /// it is a `_bucket`, `_sum` or `_count` of.
    private func family(of sampleName: String) -> String? {
        if let family = families[sampleName], family.type != "histogram" { return sampleName }
        for suffix in ["_bucket", "_sum", "_count"] where sampleName.hasSuffix(suffix) {
            let base = String(sampleName.dropLast(suffix.count))
            if let type = families[base]?.type, type == "histogram" || (type == "summary" && suffix != "_bucket") {
                return base
            }
        }
        return nil
    }

    // MARK: Lexing

    /// `name{label="value",...} value [timestamp]`
    static func parseSample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let name = String(rest.prefix { isNameCharacter($0, colon: true) })
        guard isMetricName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { isNameCharacter($0, colon: false) })
                guard isLabelName(label), labels[label] == nil else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var raw = ""
                var escaped = false
                var closed = false
                while !closed, let character = rest.popFirst() {
                    if character == "\"" && !escaped {
                        closed = true
                    } else {
                        raw.append(character)
                        escaped = character == "\\" && !escaped
                    }
                }
                guard closed, let value = unescape(raw, quotes: true) else { return nil }
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let fields = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 1 || fields.count == 2, let value = parseValue(fields[0]) else { return nil }
        if fields.count == 2, Int64(fields[1]) == nil { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Go's `ParseFloat` forms as Prometheus writes them, and `+Inf`, `-Inf`, `NaN`.
    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789.eE+-".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    /// Undoes `\\`, `\n` and, in label values, `\"`; any other escape is an error.
    static func unescape(_ text: String, quotes: Bool) -> String? {
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "\\": result.append("\\")
            case "n": result.append("\n")
            case "\"" where quotes: result.append("\"")
            default: return nil
            }
        }
        return result
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.first, !first.isNumber else { return false }
        return name.allSatisfy { isNameCharacter($0, colon: true) }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.first, !first.isNumber else { return false }
        return name.allSatisfy { isNameCharacter($0, colon: false) }
    }

    static func isNameCharacter(_ character: Character, colon: Bool) -> Bool {
        guard character.isASCII else { return false }
        return character.isLetter || character.isNumber || character == "_" || (colon && character == ":")
    }

    // MARK: Queries

    subscript(name: String) -> Family? { families[name] }

    /// The value of the one sample called `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matches = families.values.flatMap(\.samples).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matches.count == 1 ? matches[0].value : nil
    }

    /// Samples called `name` whose labels include `labels`.
    func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        families.values.flatMap(\.samples).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }
}
