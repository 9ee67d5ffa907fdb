// The diff between two versions of a table's columns, and the registry that
// decides when a Relation message is a new version. Pure, no Postgres.

import EventStore
import PostgresWire
import Testing

@testable import CDC

@Suite struct SchemaDiffTests {
    static func column(
        _ name: String, _ oid: UInt32 = 23, _ type: String = "integer", key: Bool = false, modifier: Int32 = -1
    ) -> ColumnSchema {
        ColumnSchema(
            name: name, typeOID: oid, typeModifier: modifier, typeName: type, isKey: key, isNullable: true,
            defaultExpression: nil)
    }

    static let id = column("id", key: true)
    static let email = column("email", 25, "text")

    @Test func addedColumnAtTheEnd() {
        let diff = SchemaDiff(
            from: [Self.id, Self.email], previousVersion: 1, to: [Self.id, Self.email, Self.column("age")])
        #expect(diff.added.map(\.name) == ["age"])
        #expect(diff.dropped.isEmpty && diff.retyped.isEmpty && diff.renamed.isEmpty && diff.keyChanged == nil)
        #expect(diff.previousVersion == 1)
    }

    @Test func droppedColumnInTheMiddle() {
        let diff = SchemaDiff(
            from: [Self.id, Self.email, Self.column("age")], previousVersion: 3, to: [Self.id, Self.column("age")])
        #expect(diff.dropped == ["email"])
        #expect(diff.added.isEmpty && diff.renamed.isEmpty)
    }

    @Test func retypedKeepsTheTypeNames() {
        let diff = SchemaDiff(
            from: [Self.id, Self.column("price", 1700, "numeric(10,2)", modifier: 655_366)], previousVersion: 1,
            to: [Self.id, Self.column("price", 1700, "numeric(12,2)", modifier: 786_438)])
        #expect(diff.retyped == [.init(column: "price", from: "numeric(10,2)", to: "numeric(12,2)")])
        #expect(diff.added.isEmpty && diff.dropped.isEmpty && diff.renamed.isEmpty)
    }

    @Test func renameIsSamePositionAndTypeWithANewName() {
        let diff = SchemaDiff(
            from: [Self.id, Self.email], previousVersion: 1, to: [Self.id, Self.column("mail", 25, "text")])
        #expect(diff.renamed == [.init(from: "email", to: "mail")])
        #expect(diff.added.isEmpty && diff.dropped.isEmpty)
    }

    @Test func aNewNameWithAnotherTypeIsADropAndAnAdd() {
        let diff = SchemaDiff(from: [Self.id, Self.email], previousVersion: 1, to: [Self.id, Self.column("age")])
        #expect(diff.renamed.isEmpty)
        #expect(diff.dropped == ["email"])
        #expect(diff.added.map(\.name) == ["age"])
    }

    @Test func keyAddedDroppedAndFollowingARename() {
        let noKey = [Self.column("id"), Self.email]
        let added = SchemaDiff(from: noKey, previousVersion: 1, to: [Self.id, Self.email])
        #expect(added.keyChanged == .init(from: [], to: ["id"]))
        #expect(added.isEmpty == false && added.retyped.isEmpty)
        let dropped = SchemaDiff(from: [Self.id, Self.email], previousVersion: 2, to: noKey)
        #expect(dropped.keyChanged == .init(from: ["id"], to: []))
        let renamedKey = SchemaDiff(
            from: [Self.id, Self.email], previousVersion: 1, to: [Self.column("uid", key: true), Self.email])
        #expect(renamedKey.renamed == [.init(from: "id", to: "uid")])
        #expect(renamedKey.keyChanged == nil)
    }

    @Test func identicalListsAreEmpty() {
        #expect(SchemaDiff(from: [Self.id, Self.email], previousVersion: 1, to: [Self.id, Self.email]).isEmpty)
    }

    @Test func registryMakesAVersionOnlyForANewShape() throws {
        var registry = SchemaRegistry()
        let first = registry.resolve(schema: "public", table: "t", relationOID: 10, columns: [Self.id, Self.email])
        #expect(first.version == 1)
        #expect(first.announcement?.change == nil)
        registry.announced(try #require(first.announcement))

        // A new session sends the same Relation again; nullability read from
        // the catalog later does not count.
        var relaxed = Self.email
        relaxed.isNullable = false
        let again = registry.resolve(schema: "public", table: "t", relationOID: 10, columns: [Self.id, relaxed])
        #expect(again == .init(version: 1, announcement: nil))

        let grown = registry.resolve(
            schema: "public", table: "t", relationOID: 10, columns: [Self.id, Self.email, Self.column("age")])
        #expect(grown.version == 2)
        #expect(grown.announcement?.change?.added.map(\.name) == ["age"])
        // Not announced yet: the same shape still resolves to the new version.
        let unannounced = registry.resolve(
            schema: "public", table: "t", relationOID: 10, columns: [Self.id, Self.email, Self.column("age")])
        #expect(unannounced.version == 2)
        #expect(unannounced.announcement != nil)
    }

    @Test func registryResumesFromStoredVersions() throws {
        let version = SchemaVersion(
            schema: "public", table: "t", version: 4, relationOID: 10, columns: [Self.id, Self.email],
            change: SchemaDiff(from: [Self.id], previousVersion: 3, to: [Self.id, Self.email]))
        let stored = version.stored(lsn: LSN(0x1000), commitLSN: LSN(0x2000))
        #expect(try SchemaVersion(stored: stored) == version)
        let registry = try SchemaRegistry(stored: [stored])
        #expect(
            registry.resolve(schema: "public", table: "t", relationOID: 10, columns: [Self.id, Self.email])
                == .init(version: 4, announcement: nil))
        #expect(registry.resolve(schema: "public", table: "t", relationOID: 10, columns: [Self.id]).version == 5)
    }

    @Test func aMalformedStoredVersionIsAnError() {
        let stored = StoredTableSchema(
            schema: "public", table: "t", version: 1, relationOID: 1, lsn: .zero, commitLSN: .zero, columns: "[{",
            change: nil)
        #expect(throws: (any Error).self) { try SchemaRegistry(stored: [stored]) }
    }
}
