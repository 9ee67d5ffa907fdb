// The diff when both versions know their columns' attribute numbers (DDL
// capture's messages carry them): renames, swaps, a rename with a type
// change, and a drop plus an add that the positional guess calls a rename.

import Testing

@testable import CDC

@Suite struct SchemaDiffExactTests {
    static func column(
        _ name: String, _ attnum: Int16?, _ oid: UInt32 = 23, _ type: String = "integer", key: Bool = false
    ) -> ColumnSchema {
        ColumnSchema(
            name: name, typeOID: oid, typeModifier: -1, typeName: type, isKey: key, isNullable: true,
            defaultExpression: nil, attnum: attnum)
    }

    @Test func twoColumnsSwappingNamesAreTwoRenames() {
        let diff = SchemaDiff(
            from: [Self.column("id", 1, key: true), Self.column("a", 2), Self.column("b", 3)], previousVersion: 1,
            to: [Self.column("id", 1, key: true), Self.column("b", 2), Self.column("a", 3)])
        #expect(diff.renamed == [.init(from: "a", to: "b"), .init(from: "b", to: "a")])
        #expect(diff.added.isEmpty && diff.dropped.isEmpty && diff.retyped.isEmpty && diff.keyChanged == nil)
    }

    @Test func aRenameWithATypeChangeIsBoth() {
        let diff = SchemaDiff(
            from: [Self.column("id", 1, key: true), Self.column("n", 2)], previousVersion: 4,
            to: [Self.column("id", 1, key: true), Self.column("total", 2, 20, "bigint")])
        #expect(diff.renamed == [.init(from: "n", to: "total")])
        #expect(diff.retyped == [.init(column: "total", from: "integer", to: "bigint")])
        #expect(diff.added.isEmpty && diff.dropped.isEmpty && diff.previousVersion == 4)
    }

    @Test func aDropAndAnAddOfTheSameTypeAreNotARename() {
        let old = [Self.column("id", 1, key: true), Self.column("a", 2)]
        let new = [Self.column("id", 1, key: true), Self.column("z", 3)]
        let diff = SchemaDiff(from: old, previousVersion: 1, to: new)
        #expect(diff.dropped == ["a"] && diff.added.map(\.name) == ["z"] && diff.renamed.isEmpty)
        // Without the numbers the same lists are guessed to be a rename.
        let guessed = SchemaDiff(
            from: old.map {
                var c = $0
                c.attnum = nil
                return c
            }, previousVersion: 1,
            to: new.map {
                var c = $0
                c.attnum = nil
                return c
            })
        #expect(guessed.renamed == [.init(from: "a", to: "z")])
    }

    @Test func aRenamedKeyColumnIsNotAKeyChange() {
        let diff = SchemaDiff(
            from: [Self.column("id", 1, key: true), Self.column("v", 2)], previousVersion: 1,
            to: [Self.column("ident", 1, key: true), Self.column("v", 2)])
        #expect(diff.renamed == [.init(from: "id", to: "ident")] && diff.keyChanged == nil)
    }

    @Test func aVersionWithoutNumbersFallsBackToPositions() {
        let diff = SchemaDiff(
            from: [Self.column("id", nil, key: true), Self.column("a", nil)], previousVersion: 1,
            to: [Self.column("id", 1, key: true), Self.column("b", 2)])
        #expect(diff.renamed == [.init(from: "a", to: "b")])
    }
}

@Suite struct TableFilterPartitionTests {
    typealias Name = TableFilter.TableName
    static let root = [Name(schema: "public", table: "measurements")]

    @Test func theRootsNameSelectsItsPartitions() {
        let filter = TableFilter(includeTables: ["public.measurements"])
        #expect(!filter.selects(schema: "public", table: "measurements_2024"))
        #expect(filter.selects(schema: "public", table: "measurements_2024", ancestors: Self.root))
        #expect(filter.selects(schema: "parts", table: "m_2024", ancestors: Self.root))
        #expect(!filter.selects(schema: "public", table: "other", ancestors: []))
    }

    @Test func excludingTheRootExcludesItsPartitions() {
        let filter = TableFilter(excludeTables: ["measurements"])
        #expect(filter.selects(schema: "public", table: "measurements_2024"))
        #expect(!filter.selects(schema: "public", table: "measurements_2024", ancestors: Self.root))
        let partitionOnly = TableFilter(includeTables: ["measurements*"], excludeTables: ["measurements_2023"])
        #expect(!partitionOnly.selects(schema: "public", table: "measurements_2023", ancestors: Self.root))
        #expect(partitionOnly.selects(schema: "public", table: "measurements_2024", ancestors: Self.root))
    }

    @Test func withoutAncestorsItIsThePlainFilter() {
        let filter = TableFilter(includeSchemas: ["app"], excludeTables: ["app.secret"])
        for (schema, table) in [("app", "a"), ("app", "secret"), ("public", "a")] {
            #expect(
                filter.selects(schema: schema, table: table, ancestors: [])
                    == filter.selects(schema: schema, table: table))
        }
    }
}
