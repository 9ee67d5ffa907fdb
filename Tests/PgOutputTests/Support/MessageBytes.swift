// Builds pgoutput messages for tests, field by field, with the lengths and
// counts filled in, so a fixture reads like the protocol page.

import PgOutput
import PostgresWire

/// A column in a TupleData fixture.
enum Column {
    case null, unchangedToast
    case text(String)
    case binary([UInt8])
}

/// One pgoutput message under construction.
struct MessageBytes {
    var writer = ByteWriter()

    init(_ id: Unicode.Scalar) { writer.writeASCII(id) }

    var bytes: [UInt8] { writer.bytes }

    private func with(_ write: (inout ByteWriter) -> Void) -> MessageBytes {
        var copy = self
        write(&copy.writer)
        return copy
    }

    func u8(_ value: UInt8) -> Self { with { $0.write(value) } }
    func i16(_ value: Int16) -> Self { with { $0.write(value) } }
    func u32(_ value: UInt32) -> Self { with { $0.write(value) } }
    func i32(_ value: Int32) -> Self { with { $0.write(value) } }
    func u64(_ value: UInt64) -> Self { with { $0.write(value) } }
    /// A NUL-terminated string (`String` in the protocol docs).
    func string(_ value: String) -> Self {
        with {
            $0.write(bytes: value.utf8)
            $0.write(UInt8(0))
        }
    }
    func ascii(_ value: Unicode.Scalar) -> Self { with { $0.writeASCII(value) } }
    func raw(_ bytes: [UInt8]) -> Self { with { $0.write(bytes: bytes) } }

    /// A TupleData: Int16 count, then each column's kind byte and value.
    func tuple(_ columns: [Column]) -> Self {
        with { writer in
            writer.write(Int16(columns.count))
            for column in columns {
                switch column {
                case .null: writer.writeASCII("n")
                case .unchangedToast: writer.writeASCII("u")
                case .text(let text):
                    writer.writeASCII("t")
                    writer.write(Int32(text.utf8.count))
                    writer.write(bytes: text.utf8)
                case .binary(let bytes):
                    writer.writeASCII("b")
                    writer.write(Int32(bytes.count))
                    writer.write(bytes: bytes)
                }
            }
        }
    }

    /// A message of type `id` with the fields `fill` appends, e.g.
    /// `MessageBytes.build("B") { $0.u64(lsn).u64(time).u32(xid) }`.
    static func build(_ id: Unicode.Scalar, _ fill: (MessageBytes) -> MessageBytes) -> [UInt8] {
        fill(MessageBytes(id)).bytes
    }
}

extension TupleValue {
    /// `.text` of a string, for expectations.
    static func text(_ string: String) -> TupleValue { .text(ArraySlice(string.utf8)) }
}

extension TupleData {
    init(_ columns: TupleValue...) { self.init(columns: columns) }
}
