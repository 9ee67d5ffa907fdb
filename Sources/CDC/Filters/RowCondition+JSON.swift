// A row condition read from its JSON form, a list of
// `{"column": …, "op": …, "value": …}` objects (as JSONSerialization gives
// it), with an error per wrong field that says what is allowed.

import Foundation

extension RowCondition {
    /// The field errors of a condition read from JSON: the field
    /// (`where[1].op`) and what is wrong with it.
    public typealias FieldErrors = [(field: String, message: String)]

    /// Most values an `in` list takes.
    public static let maxListValues = 1000

    /// What the JSON form looks like, for errors that refuse another one.
    public static let example = #"[{"column": "region", "op": "=", "value": "eu"}]"#

    static let allowedOperators = RowPredicate.Operator.allCases.map(\.rawValue).joined(separator: ", ")

    /// The condition in `json` (at `field`), or nil with what is wrong with it in `errors`.
    public static func parse(_ json: Any, field: String, errors: inout FieldErrors) -> RowCondition? {
        if json is String {
            errors.append(
                (
                    field,
                    "SQL text is not accepted; give a list of {column, op, value} predicates, all of which a row must "
                        + "meet, e.g. \(example)"
                ))
            return nil
        }
        guard let list = json as? [Any], !list.isEmpty else {
            errors.append((field, "must be a non-empty list of {column, op, value} predicates, e.g. \(example)"))
            return nil
        }
        let before = errors.count
        var predicates: [RowPredicate] = []
        for (index, item) in list.enumerated() {
            if let predicate = RowPredicate.parse(item, field: "\(field)[\(index)]", errors: &errors) {
                predicates.append(predicate)
            }
        }
        return errors.count == before ? RowCondition(predicates) : nil
    }
}

extension RowPredicate {
    static func parse(_ json: Any, field: String, errors: inout RowCondition.FieldErrors) -> RowPredicate? {
        guard let object = json as? [String: Any] else {
            errors.append((field, "must be an object {column, op, value}"))
            return nil
        }
        let before = errors.count
        for key in object.keys.sorted() where !["column", "op", "value"].contains(key) {
            errors.append(("\(field).\(key)", "is not a known field (column, op, value)"))
        }
        let column = object["column"] as? String
        if column == nil || column!.isEmpty || column!.utf8.contains(0) {
            errors.append(("\(field).column", "must be the name of one of the table's columns"))
        }
        let op = (object["op"] as? String).flatMap(Operator.init(rawValue:))
        if op == nil {
            errors.append(("\(field).op", "must be one of \(RowCondition.allowedOperators)"))
        }
        var values: [Value] = []
        if let op {
            let value = object["value"]
            if !op.takesValue {
                if value != nil && !(value is NSNull) {
                    errors.append(("\(field).value", "must be absent: \(op.rawValue) takes no value"))
                }
            } else if op.takesList {
                if let list = value as? [Any], !list.isEmpty, list.count <= RowCondition.maxListValues {
                    for (index, item) in list.enumerated() {
                        if let scalar = Value.parse(item, field: "\(field).value[\(index)]", errors: &errors) {
                            values.append(scalar)
                        }
                    }
                } else {
                    errors.append(
                        (
                            "\(field).value",
                            "must be a list of 1 to \(RowCondition.maxListValues) strings, numbers or booleans"
                        ))
                }
            } else if let value, !(value is NSNull) {
                if let scalar = Value.parse(value, field: "\(field).value", errors: &errors) {
                    values.append(scalar)
                    if op == .like, case .string = scalar {
                    } else if op == .like {
                        errors.append(("\(field).value", "must be a string pattern for like"))
                    }
                }
            } else {
                errors.append(
                    ("\(field).value", "is required for \(op.rawValue); to test for NULL use op is_null or is_not_null")
                )
            }
        }
        guard errors.count == before, let column, let op else { return nil }
        return RowPredicate(column: column, op: op, values: values)
    }
}

extension RowPredicate.Value {
    /// JSONSerialization gives true/false as a distinct NSNumber subclass.
    private static let booleanType = type(of: NSNumber(value: true))

    static func parse(_ json: Any, field: String, errors: inout RowCondition.FieldErrors) -> Self? {
        switch json {
        case let text as String:
            // libpq ends a query's text at a NUL, and no Postgres text value holds one.
            guard !text.utf8.contains(0) else {
                errors.append((field, "must not contain a NUL character (\\u0000): Postgres text cannot hold one"))
                return nil
            }
            return .string(text)
        case let number as NSNumber where type(of: number) == booleanType:
            return .bool(number.boolValue)
        case let number as NSNumber:
            // A whole number as an integer (`1e3` and `1000.0` as `1000`, which
            // an integer column reads), whole or not as Swift prints a Double.
            // Beyond 2^53 a fraction may not survive parsing exactly: such
            // values go as strings, which are cast to the column's type all the same.
            let whole = number.int64Value
            return .number(number.isEqual(to: NSNumber(value: whole)) ? String(whole) : "\(number.doubleValue)")
        default:
            errors.append((field, "must be a string, a number or a boolean (null: use op is_null)"))
            return nil
        }
    }
}
