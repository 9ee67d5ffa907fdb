// The `publication` and `columns` fields of a pipeline (openapi.yaml:
// PublicationInput, ColumnMaskInput). `publication` is a name (an existing
// publication, as before) or an object `{"mode": "existing"|"managed",
// "name": …}`; `columns` lists the columns to exclude, hash, redact,
// truncate or keep, what happens to columns added later, and a hash key that
// is write-only like every secret.

import CDC
import Foundation

extension JSONInput {
    /// The publication's mode and name (nil: the mode's default); nil when absent or wrong (recorded).
    mutating func publication(_ field: String) -> (mode: PublicationMode, name: String?)? {
        switch object[field] {
        case nil, is NSNull:
            return nil
        case let name as String:
            return (.existing, name)
        case let map as [String: Any]:
            for key in map.keys.sorted() where !["mode", "name"].contains(key) {
                fail("\(field).\(key)", "is not a known field")
            }
            var mode = PublicationMode.existing
            switch map["mode"] {
            case nil, is NSNull: break
            case let text as String where PublicationMode(rawValue: text) != nil:
                mode = PublicationMode(rawValue: text)!
            default: fail("\(field).mode", "must be existing or managed")
            }
            switch map["name"] {
            case nil, is NSNull: return (mode, nil)
            case let name as String where !name.isEmpty && name.utf8.count <= 63: return (mode, name)
            default:
                fail("\(field).name", "must be a publication name of 1 to 63 bytes")
                return nil
            }
        default:
            fail(field, "must be a publication name or an object with mode and name")
            return nil
        }
    }

    /// The column masking; nil when absent or wrong (recorded). Without
    /// `hash_key` the previous key is kept, or a new one made.
    mutating func columnMask(_ field: String, previousKey: String?) -> ColumnMask? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let map = value as? [String: Any] else {
            fail(field, "must be an object")
            return nil
        }
        let known = ["exclude", "hash", "redact", "truncate", "keep", "new_columns", "hash_key"]
        for key in map.keys.sorted() where !known.contains(key) {
            fail("\(field).\(key)", "is not a known field")
        }
        let exclude = stringList("\(field).exclude", in: map["exclude"]) ?? []
        let hash = stringList("\(field).hash", in: map["hash"]) ?? []
        let redact = stringList("\(field).redact", in: map["redact"]) ?? []
        let keep = stringList("\(field).keep", in: map["keep"]) ?? []
        var truncate: [String: Int] = [:]
        switch map["truncate"] {
        case nil, is NSNull: break
        case let lengths as [String: Any]:
            for (pattern, length) in lengths.sorted(by: { $0.key < $1.key }) {
                guard let count = integer("\(field).truncate.\(pattern)", in: length) else { continue }
                guard count >= 1 else {
                    fail("\(field).truncate.\(pattern)", "must be at least 1 character")
                    continue
                }
                truncate[pattern] = count
            }
        default: fail("\(field).truncate", "must be an object of column patterns and lengths")
        }
        for pattern in exclude + hash + redact + keep + truncate.keys where pattern.isEmpty {
            fail(field, "patterns must not be empty")
        }
        var newColumns = ColumnMask.NewColumns.include
        switch map["new_columns"] {
        case nil, is NSNull: break
        case let text as String where ColumnMask.NewColumns(rawValue: text) != nil:
            newColumns = ColumnMask.NewColumns(rawValue: text)!
        default: fail("\(field).new_columns", "must be include or exclude")
        }
        var key = previousKey
        switch map["hash_key"] {
        case nil, is NSNull: break
        case let text as String where text.utf8.count >= 16: key = text
        default: fail("\(field).hash_key", "must be a string of at least 16 bytes")
        }
        return ColumnMask(
            exclude: exclude, hash: hash, redact: redact, truncate: truncate, keep: keep, newColumns: newColumns,
            hashKey: key ?? ColumnMask.generateKey())
    }
}
