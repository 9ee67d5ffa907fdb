// The `sinks` array of a pipeline (openapi.yaml: SinkInput): each entry an
// object whose fields depend on its `type`, each error named by its path
// (`sinks[1].url`). Secrets are write-only: an entry that leaves its secret
// out keeps the one of the stored sink with the same name and type. A Kafka
// property given as `null` is removed, a secret one included: that is the
// only way to drop a secret the API never shows.

import Foundation
import Sinks

extension JSONInput {
    /// The sinks, or nil when the array is absent or null (no sinks) or has
    /// errors, which are recorded.
    mutating func sinks(_ field: String, previous: [SinkConfig]) -> [SinkConfig]? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let list = value as? [Any] else {
            fail(field, "must be an array of sink objects")
            return nil
        }
        let errorsBefore = errors.count
        var sinks: [SinkConfig] = []
        var names: Set<String> = []
        for (index, element) in list.enumerated() {
            let path = "\(field)[\(index)]"
            guard let sink = sink(element, path: path, previous: previous) else { continue }
            if !names.insert(sink.name).inserted { fail("\(path).name", "names another sink of this pipeline too") }
            sinks.append(sink)
        }
        return errors.count == errorsBefore ? sinks : nil
    }

    private mutating func sink(_ element: Any, path: String, previous: [SinkConfig]) -> SinkConfig? {
        guard var map = element as? [String: Any] else {
            fail(path, "must be a sink object")
            return nil
        }
        guard let type = map["type"] as? String else {
            fail("\(path).type", "is required: jetstream, kafka or webhook")
            return nil
        }
        guard let known = SinkConfig.fields(type: type) else {
            fail("\(path).type", "must be jetstream, kafka or webhook")
            return nil
        }
        let before = errors.count
        for key in map.keys.sorted() where !known.contains(key) {
            fail("\(path).\(key)", "is not a field of a \(type) sink")
        }
        guard errors.count == before else { return nil }
        let name = map["name"] as? String
        let kept = previous.first { $0.name == name && $0.type == type }
        var removed: [String] = []
        if type == "kafka", var properties = map["properties"] as? [String: Any] {
            removed = properties.filter { $0.value is NSNull }.map(\.key)
            for property in removed { properties[property] = nil }
            map["properties"] = properties
        }
        if type == "webhook", map["secret"] == nil || map["secret"] is NSNull {
            guard case .webhook(let settings)? = kept?.target else {
                fail("\(path).secret", "is required (write-only: a PUT without it keeps the stored sink's)")
                return nil
            }
            map["secret"] = settings.secret
        }
        var sink: SinkConfig
        do {
            let data = try JSONSerialization.data(withJSONObject: map)
            sink = try JSONDecoder().decode(SinkConfig.self, from: data)
        } catch let error as DecodingError {
            let (field, message) = Self.describe(error)
            fail(field.map { "\(path).\($0)" } ?? path, message)
            return nil
        } catch {
            fail(path, "is not a sink object: \(error)")
            return nil
        }
        if let kept { sink.keepSecretProperties(of: kept) }
        sink.removeProperties(removed)
        for problem in sink.violations() { fail(path, problem) }
        return sink
    }

    /// The field a decoding error is about and what is wrong with it.
    private static func describe(_ error: DecodingError) -> (String?, String) {
        func field(_ path: [any CodingKey], _ key: (any CodingKey)? = nil) -> String? {
            let names = (path + (key.map { [$0] } ?? [])).map(\.stringValue)
            return names.isEmpty ? nil : names.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return (field(context.codingPath, key), "is required")
        case .typeMismatch(let type, let context): return (field(context.codingPath), "must be \(Self.name(of: type))")
        case .valueNotFound(let type, let context):
            return (field(context.codingPath), "must be \(Self.name(of: type)), not null")
        case .dataCorrupted(let context): return (field(context.codingPath), context.debugDescription)
        @unknown default: return (nil, "\(error)")
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type: "an array of strings"
        case is [String: String].Type: "an object of strings"
        default: "of another type"
        }
    }
}
