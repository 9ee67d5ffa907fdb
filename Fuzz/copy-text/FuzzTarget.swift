// libFuzzer target: the COPY text row splitter of the initial load. Byte 0 is
// the number of columns expected, byte 1 where the fields start (as after a
// ctid prefix), the rest one line. Every field is read back, and a row that
// splits is checked against the rules of the text format: as many fields as
// asked, and a field without backslashes is exactly the bytes of the line.
import PgOutput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCopyText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let columns = Int(data[0]) % 33
    let line = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let offset = Int(data[1]) % (line.count + 1)
    var fields = CopyTextFields()
    do {
        try fields.withRow(line, from: offset, columns: columns) { row in
            guard row.count == columns else { fatalError("\(row.count) fields for \(columns) columns") }
            for index in 0..<row.count {
                guard let text = row[index] else { continue }
                if case .line(let range) = row.fields[index], text.count != range.count {
                    fatalError("field \(index) is \(text.count) bytes, its range \(range.count)")
                }
            }
            _ = row.tuple()
        }
    } catch {
        _ = String(describing: error)
    }
    return 0
}
