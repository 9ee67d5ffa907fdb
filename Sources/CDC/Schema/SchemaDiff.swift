// What changed between two versions of a table's column list, as the `s`
// event's `change` reports it. Pure, so every case is unit tested.
//
// A column keeps its attribute number (`pg_attribute.attnum`) through a
// rename and a type change, and a dropped column's number is never reused, so
// when both versions know their columns' numbers (DDL capture's messages
// carry them; relations get them from the catalog) the change is exact: same
// number and another name is a rename, a number that is gone is a drop, a new
// one an add, whatever the names and types.
//
// Without them, pgoutput's Relation message lists the live columns in
// attribute order and nothing else, so a rename is told from a drop plus an
// add only by shape: an unmatched old column and an unmatched new one at the
// same position with the same type are a rename. Dropping the last column and
// adding one of the same type in a single step looks the same, and is
// reported as a rename.

struct SchemaDiff: Equatable, Sendable, Codable {
    struct Retype: Equatable, Sendable, Codable {
        var column: String
        var from: String
        var to: String
    }

    struct Rename: Equatable, Sendable, Codable {
        var from: String
        var to: String
    }

    struct KeyChange: Equatable, Sendable, Codable {
        var from: [String]
        var to: [String]
    }

    var previousVersion: Int
    var added: [ColumnSchema] = []
    var dropped: [String] = []
    var retyped: [Retype] = []
    var renamed: [Rename] = []
    /// nil when the key columns are the same (after renames).
    var keyChanged: KeyChange?
    /// The table itself was dropped (seen only with DDL capture); nil otherwise.
    var tableDropped: Bool?

    enum CodingKeys: String, CodingKey {
        case previousVersion = "previous_version"
        case added, dropped, retyped, renamed
        case keyChanged = "key_changed"
        case tableDropped = "table_dropped"
    }

    /// The change from `old` (version `previousVersion`) to `new`.
    init(from old: [ColumnSchema], previousVersion: Int, to new: [ColumnSchema]) {
        if let oldNumbers = Self.attnums(old), let newNumbers = Self.attnums(new) {
            self = Self(exactFrom: old, oldNumbers, previousVersion: previousVersion, to: new, newNumbers)
            return
        }
        self.previousVersion = previousVersion
        let oldNames = Set(old.map(\.name))
        let newNames = Set(new.map(\.name))
        for column in new {
            if let before = old.first(where: { $0.name == column.name }), !before.hasSameType(as: column) {
                retyped.append(Retype(column: column.name, from: before.typeName, to: column.typeName))
            }
        }
        var renamedOld = Set<String>()
        var renamedNew = Set<String>()
        for index in new.indices where index < old.count {
            let before = old[index]
            let after = new[index]
            if !newNames.contains(before.name), !oldNames.contains(after.name), before.hasSameType(as: after) {
                renamed.append(Rename(from: before.name, to: after.name))
                renamedOld.insert(before.name)
                renamedNew.insert(after.name)
            }
        }
        added = new.filter { !oldNames.contains($0.name) && !renamedNew.contains($0.name) }
        dropped = old.map(\.name).filter { !newNames.contains($0) && !renamedOld.contains($0) }
        let renames = Dictionary(uniqueKeysWithValues: renamed.map { ($0.from, $0.to) })
        let oldKey = old.keyNames
        if oldKey.map({ renames[$0] ?? $0 }) != new.keyNames {
            keyChanged = KeyChange(from: oldKey, to: new.keyNames)
        }
    }

    /// Matched by attribute number: exact.
    private init(
        exactFrom old: [ColumnSchema], _ oldNumbers: [Int16], previousVersion: Int, to new: [ColumnSchema],
        _ newNumbers: [Int16]
    ) {
        self.previousVersion = previousVersion
        let oldByNumber = Dictionary(zip(oldNumbers, old), uniquingKeysWith: { first, _ in first })
        let kept = Set(newNumbers)
        for (number, column) in zip(newNumbers, new) {
            guard let before = oldByNumber[number] else {
                added.append(column)
                continue
            }
            if before.name != column.name { renamed.append(Rename(from: before.name, to: column.name)) }
            if !before.hasSameType(as: column) {
                retyped.append(Retype(column: column.name, from: before.typeName, to: column.typeName))
            }
        }
        dropped = zip(oldNumbers, old).filter { !kept.contains($0.0) }.map(\.1.name)
        let renames = Dictionary(renamed.map { ($0.from, $0.to) }, uniquingKeysWith: { first, _ in first })
        if old.keyNames.map({ renames[$0] ?? $0 }) != new.keyNames {
            keyChanged = KeyChange(from: old.keyNames, to: new.keyNames)
        }
    }

    /// Every column's attribute number, each once; nil when any is unknown.
    private static func attnums(_ columns: [ColumnSchema]) -> [Int16]? {
        let numbers = columns.compactMap(\.attnum)
        guard numbers.count == columns.count, Set(numbers).count == numbers.count else { return nil }
        return numbers
    }

    /// Nothing a consumer would act on changed.
    var isEmpty: Bool {
        added.isEmpty && dropped.isEmpty && retyped.isEmpty && renamed.isEmpty && keyChanged == nil
            && tableDropped != true
    }
}
