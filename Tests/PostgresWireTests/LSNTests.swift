import PostgresWire
import Testing

@Suite struct LSNTests {
    @Test func parsesAndPrintsTheTextForm() throws {
        let lsn = try #require(LSN("16/B374D848"))
        #expect(lsn.rawValue == 0x16_B374_D848)
        #expect(lsn.description == "16/B374D848")
        #expect(LSN("0/0") == .zero)
        #expect(LSN(0x1_0000_0000).description == "1/0")
    }

    @Test(arguments: ["", "0", "/", "1/", "/1", "G/0", "1/2/3", "123456789/0", " 1/0", "1/0 "])
    func rejectsMalformedText(_ text: String) {
        #expect(LSN(text) == nil)
    }

    @Test func ordersByPosition() {
        #expect(LSN("0/FF")! < LSN("1/0")!)
        #expect(LSN(100).bytes(after: LSN(40)) == 60)
        #expect(LSN(40).bytes(after: LSN(100)) == 0)
    }
}

@Suite struct PostgresTimestampTests {
    @Test func convertsFromThePostgresEpoch() {
        #expect(PostgresTimestamp(rawValue: 0).iso8601 == "2000-01-01T00:00:00.000000Z")
        #expect(PostgresTimestamp(rawValue: 0).unixMilliseconds == 946_684_800_000)
        // `date -u -d @1763978400` prints Mon Nov 24 10:00:00 UTC 2025.
        #expect(PostgresTimestamp(unixMicroseconds: 1_763_978_400_123_456).iso8601 == "2025-11-24T10:00:00.123456Z")
        #expect(PostgresTimestamp(rawValue: -1).iso8601 == "1999-12-31T23:59:59.999999Z")
    }
}

@Suite struct ByteReaderTests {
    @Test func readsBigEndianPrimitives() throws {
        var writer = ByteWriter()
        writer.write(UInt8(7))
        writer.write(Int16(-2))
        writer.write(UInt32(0xDEAD_BEEF))
        writer.write(LSN(0x0102_0304_0506_0708))
        writer.write(bytes: "héllo".utf8)
        writer.write(UInt8(0))
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readUInt8() == 7)
        #expect(try reader.readInt16() == -2)
        #expect(try reader.readUInt32() == 0xDEAD_BEEF)
        #expect(try reader.readLSN() == LSN(0x0102_0304_0506_0708))
        #expect(try reader.readCString() == "héllo")
        #expect(reader.isAtEnd)
    }

    @Test func throwsOnShortInput() {
        var reader = ByteReader([0, 1, 2])
        #expect(throws: ByteReader.Error.truncated(offset: 0, needed: 4)) { try reader.readUInt32() }
        var unterminated = ByteReader(Array("abc".utf8))
        #expect(throws: ByteReader.Error.unterminatedString(offset: 0)) { try unterminated.readCString() }
    }
}
