// A row condition as the API shows it: the same list of {column, op, value}
// objects it was given.

import CDC

extension RowCondition {
    var representation: JSON {
        .array(
            predicates.map { predicate in
                var members: [(key: String, value: JSON)] = [
                    ("column", .string(predicate.column)), ("op", .string(predicate.op.rawValue)),
                ]
                let values = predicate.values.map(Self.representation)
                if predicate.op == .in || predicate.op == .notIn {
                    members.append(("value", .array(values)))
                } else if let value = values.first {
                    members.append(("value", value))
                }
                return .object(members)
            })
    }

    private static func representation(_ value: RowPredicate.Value) -> JSON {
        switch value {
        case .string(let text): .string(text)
        case .bool(let flag): .bool(flag)
        case .number(let text):
            if let integer = Int64(text) { .integer(integer) } else { .number(Double(text) ?? .nan) }
        }
    }
}
