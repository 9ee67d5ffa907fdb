// Loads the messages recorded from a real PostgreSQL 15 by
// Fixtures/record.sh: one line per message, "<lsn> <xid> <hex bytes>".

import Foundation
import PostgresWire

struct RecordedMessage {
    /// The `lsn` column of pg_logical_slot_peek_binary_changes.
    let lsn: LSN
    /// The `xid` column (0 for a non-transactional message).
    let xid: UInt32
    let bytes: [UInt8]
    /// 1-based line in the fixture file, for failure messages.
    let line: Int
}

enum RecordedFixture {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "fixture \(name) not found; run Tests/PgOutputTests/Fixtures/record.sh" }
    }

    /// The text of Fixtures/`name`.`extension`.
    static func text(_ name: String, extension: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: `extension`, subdirectory: "Fixtures")
        else {
            throw Missing(name: "\(name).\(`extension`)")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func load(_ name: String) throws -> [RecordedMessage] {
        let text = try text(name, extension: "hex")
        var messages: [RecordedMessage] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty && !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let lsn = LSN(String(fields[0])), let xid = UInt32(fields[1]),
                let bytes = hexBytes(fields[2])
            else { throw Malformed(line: number + 1, text: String(line.prefix(80))) }
            messages.append(RecordedMessage(lsn: lsn, xid: xid, bytes: bytes, line: number + 1))
        }
        return messages
    }

    struct Malformed: Error {
        let line: Int
        let text: String
    }

    static func hexBytes(_ hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

extension ArraySlice where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}
