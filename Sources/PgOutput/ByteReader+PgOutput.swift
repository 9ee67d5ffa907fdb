// Reads of protocol fields that fail with `PgOutputError.Reason`, so each
// message payload decodes in one typed-throws closure and reports its own
// message id (see `ByteReader.payload`).

import PostgresWire

extension ByteReader {
    /// Runs `body` over this reader, turning its failure into a `PgOutputError`
    /// that names message `id` and carries the message's bytes.
    @inline(__always)
    mutating func payload<T>(
        _ id: MessageID, _ body: (inout ByteReader) throws(PgOutputError.Reason) -> T
    ) throws(PgOutputError) -> T {
        do {
            return try body(&self)
        } catch {
            throw PgOutputError(id, self, error)
        }
    }

    @inline(__always)
    mutating func uint8() throws(PgOutputError.Reason) -> UInt8 {
        do { return try readUInt8() } catch { throw .init(error) }
    }

    @inline(__always)
    mutating func int16() throws(PgOutputError.Reason) -> Int16 {
        do { return try readInt16() } catch { throw .init(error) }
    }

    @inline(__always)
    mutating func uint32() throws(PgOutputError.Reason) -> UInt32 {
        do { return try readUInt32() } catch { throw .init(error) }
    }

    @inline(__always)
    mutating func int32() throws(PgOutputError.Reason) -> Int32 {
        do { return try readInt32() } catch { throw .init(error) }
    }

    @inline(__always)
    mutating func lsn() throws(PgOutputError.Reason) -> LSN {
        do { return try readLSN() } catch { throw .init(error) }
    }

    @inline(__always)
    mutating func timestamp() throws(PgOutputError.Reason) -> PostgresTimestamp {
        do { return try readTimestamp() } catch { throw .init(error) }
    }

    mutating func cString() throws(PgOutputError.Reason) -> String {
        do { return try readCString() } catch { throw .init(error) }
    }

    @inline(__always)
    mutating func slice(_ count: Int) throws(PgOutputError.Reason) -> ArraySlice<UInt8> {
        do { return try readBytes(count) } catch { throw .init(error) }
    }

    /// The leading transaction id that data messages carry only inside a
    /// streamed block (protocol version 2+), or nil outside one.
    @inline(__always)
    mutating func streamedXid(_ present: Bool) throws(PgOutputError.Reason) -> UInt32? {
        present ? try uint32() : nil
    }

    /// An Int16 count of items that take at least `minimumSize` bytes each.
    /// A count the rest of the message cannot hold is reported as truncation
    /// before anything is reserved, so a corrupt count cannot make us
    /// allocate gigabytes.
    mutating func count16(of what: String, minimumSize: Int) throws(PgOutputError.Reason) -> Int {
        let count = Int(try int16())
        return try checkedCount(count, of: what, minimumSize: minimumSize)
    }

    private func checkedCount(_ count: Int, of what: String, minimumSize: Int) throws(PgOutputError.Reason) -> Int {
        guard count >= 0 else { throw .malformed("\(what) count \(count)") }
        guard count * minimumSize <= remaining else {
            throw .truncated(offset: offset, needed: count * minimumSize)
        }
        return count
    }
}
