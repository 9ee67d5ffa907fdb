// libFuzzer target: the pgoutput decoder and value conversion on arbitrary bytes.
// Byte 0 picks the mode. Decoder mode (high bit clear): the protocol version is
// 1 + byte 0 % 4 and the rest is a sequence of messages, each behind a 2-byte
// length, decoded by one decoder (the stream-block state carries over); the
// tuples of known relations go through value conversion as the pipeline does.
// Conversion mode (high bit set): byte 1 picks a value kind and the rest is the
// text Postgres would send for it.
import PostgresWire

private let kinds: [ValueKind] = {
    let scalars: [ValueKind] = [
        .bool, .integer, .float, .numeric, .text, .json, .bytea, .date, .timestamp, .timestamptz, .time, .timetz,
        .interval, .other,
    ]
    return scalars + scalars.map { .array(element: $0) } + [.array(element: .text, delimiter: UInt8(ascii: ";"))]
}()

private func convert(_ tuple: TupleData, kinds: [ValueKind], into writer: inout JSONWriter) {
    writer.beginObject()
    for (index, value) in tuple.columns.enumerated() {
        writer.key("c\(index)")
        let kind = index < kinds.count ? kinds[index] : .other
        do throws(ValueConversionError) {
            try ValueConverter.writeJSON(value, kind: kind, into: &writer)
        } catch {
            _ = error.description
            writer.null()
        }
    }
    writer.endObject()
}

private func decodeStream(_ input: ArraySlice<UInt8>, protocolVersion: Int) {
    var decoder = PgOutputDecoder(protocolVersion: protocolVersion)
    var kindsByRelation: [UInt32: [ValueKind]] = [:]
    var writer = JSONWriter()
    var rest = input
    while rest.count >= 2 {
        let length = Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1])
        rest = rest.dropFirst(2)
        let frame = Array(rest.prefix(length))
        rest = rest.dropFirst(length)
        let message: PgOutputMessage
        do throws(PgOutputError) {
            message = try decoder.decode(frame)
        } catch {
            _ = error.description
            continue
        }
        switch message {
        case .relation(let relation):
            // Built-in types by OID, as the pipeline's catalog lookup resolves them; the rest as text.
            kindsByRelation[relation.oid] = relation.columns.map { ValueKind.builtin(oid: $0.typeOID) ?? .other }
        case .insert(let insert):
            convert(insert.newTuple, kinds: kindsByRelation[insert.relationOID] ?? [], into: &writer)
        case .update(let update):
            let kinds = kindsByRelation[update.relationOID] ?? []
            if let old = update.oldTuple { convert(old.tuple, kinds: kinds, into: &writer) }
            convert(update.newTuple, kinds: kinds, into: &writer)
        case .delete(let delete):
            convert(delete.oldTuple.tuple, kinds: kindsByRelation[delete.relationOID] ?? [], into: &writer)
        default:
            break
        }
        writer.reset()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPgOutput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    if mode & 0x80 == 0 {
        decodeStream(bytes[1...], protocolVersion: 1 + Int(mode) % 4)
    } else if bytes.count >= 2 {
        var writer = JSONWriter()
        do throws(ValueConversionError) {
            try ValueConverter.writeJSON(bytes[2...], kind: kinds[Int(bytes[1]) % kinds.count], into: &writer)
        } catch {
            _ = error.description
        }
    }
    return 0
}
