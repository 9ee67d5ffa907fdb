// Request bodies: a JSON object, read field by field so that a wrong type
// or an unknown field is a 422 naming the field (openapi.yaml sets
// additionalProperties: false on every request body).

import CDC
import Foundation
import HTTPServer

struct JSONInput {
    let object: [String: Any]
    private(set) var errors: [(field: String, message: String)] = []

    init(_ request: HTTPRequest, allowed: Set<String>) throws(Problem) {
        guard let type = request.headers["content-type"], type.lowercased().hasPrefix("application/json") else {
            throw Problem(status: 415, title: "Unsupported Media Type", detail: "send the body as application/json")
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(request.body)),
            let object = parsed as? [String: Any]
        else { throw Problem.badRequest("the body is not a JSON object") }
        if let key = JSONDuplicateKeys.first(in: request.body) {
            throw Problem.badRequest("the body names \"\(key)\" twice in one object; send each field once")
        }
        self.object = object
        for key in object.keys.sorted() where !allowed.contains(key) {
            errors.append((key, "is not a known field"))
        }
    }

    func has(_ field: String) -> Bool { object[field] != nil }

    mutating func string(_ field: String, required: Bool = false) -> String? {
        switch object[field] {
        case nil, is NSNull:
            if required { errors.append((field, "is required")) }
            return nil
        case let value as String: return value
        default:
            errors.append((field, "must be a string"))
            return nil
        }
    }

    mutating func integer(_ field: String) -> Int? { integer(field, in: object[field]) }

    /// `value` as an integer, or nil (and an error naming `field` unless it is absent or null).
    mutating func integer(_ field: String, in value: Any?) -> Int? {
        guard let value, !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number),
            let integer = Int(exactly: number.doubleValue)
        else {
            errors.append((field, "must be an integer"))
            return nil
        }
        return integer
    }

    mutating func bool(_ field: String) -> Bool? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else {
            errors.append((field, "must be true or false"))
            return nil
        }
        return number.boolValue
    }

    mutating func stringMap(_ field: String) -> [String: String]? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let map = value as? [String: Any], map.values.allSatisfy({ $0 is String }) else {
            errors.append((field, "must be an object of strings"))
            return nil
        }
        return map.mapValues { $0 as! String }
    }

    mutating func stringList(_ field: String, in value: Any?) -> [String]? {
        guard let value, !(value is NSNull) else { return nil }
        guard let list = value as? [Any], list.allSatisfy({ $0 is String }) else {
            errors.append((field, "must be an array of strings"))
            return nil
        }
        return list.map { $0 as! String }
    }

    /// The fields of a table filter (`TableFilter` in openapi.yaml).
    static let filterFields: Set<String> = [
        "include_schemas", "exclude_schemas", "include_tables", "exclude_tables", "row_filters",
    ]

    /// The `filters` object: include/exclude schema and table globs.
    mutating func filters(_ field: String) -> TableFilter? {
        guard let map = nestedObject(field, known: Self.filterFields) else { return nil }
        return tableFilter(in: map, prefix: "\(field).")
    }

    /// The object `field`, or nil when it is absent or null, or is not an
    /// object (recorded). A member not in `known` is recorded as an error
    /// named by its dotted path (`snapshot.workerz`).
    mutating func nestedObject(_ field: String, known: Set<String>) -> [String: Any]? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let map = value as? [String: Any] else {
            fail(field, "must be an object")
            return nil
        }
        for key in map.keys.sorted() where !known.contains(key) { fail("\(field).\(key)", "is not a known field") }
        return map
    }

    /// A table filter read from `map`, its errors named `prefix` + field; absent lists are empty.
    mutating func tableFilter(in map: [String: Any], prefix: String = "") -> TableFilter {
        TableFilter(
            includeSchemas: stringList(prefix + "include_schemas", in: map["include_schemas"]) ?? [],
            excludeSchemas: stringList(prefix + "exclude_schemas", in: map["exclude_schemas"]) ?? [],
            includeTables: stringList(prefix + "include_tables", in: map["include_tables"]) ?? [],
            excludeTables: stringList(prefix + "exclude_tables", in: map["exclude_tables"]) ?? [],
            rows: rowFilters(prefix + "row_filters", in: map["row_filters"]))
    }

    mutating func fail(_ field: String, _ message: String) { errors.append((field, message)) }

    /// JSONSerialization gives true/false as a distinct NSNumber subclass.
    private static let booleanType = type(of: NSNumber(value: true))
    static func isBoolean(_ number: NSNumber) -> Bool { type(of: number) == booleanType }

    /// Throws the collected field errors as one 422.
    func validate() throws(Problem) {
        if !errors.isEmpty { throw Problem.invalid(errors) }
    }
}
