// The cursor's two spellings and the checks against a store's range: pure,
// no store needed.

import EventStore
import Testing

@Suite struct StoreCursorTests {
    let id = StoreID("0123456789abcdef0123456789abcdef")!
    let other = StoreID("ffffffffffffffffffffffffffffffff")!

    @Test func storeIDsAreThirtyTwoLowerCaseHexDigits() {
        #expect(StoreID("0123456789abcdef0123456789abcdef") != nil)
        #expect(StoreID("0123456789ABCDEF0123456789abcdef") == nil)
        #expect(StoreID("0123456789abcdef0123456789abcde") == nil)
        #expect(StoreID("0123456789abcdef0123456789abcdefa") == nil)
        #expect(StoreID("0123456789abcdef0123456789abcdeg") == nil)
        #expect(StoreID("") == nil)
    }

    @Test func queryForm() throws {
        #expect(try StoreCursor.parse(after: nil, store: nil) == StoreCursor(sequence: 0))
        #expect(try StoreCursor.parse(after: "42", store: nil) == StoreCursor(sequence: 42))
        #expect(try StoreCursor.parse(after: "42", store: id.rawValue) == StoreCursor(storeID: id, sequence: 42))
        #expect(try StoreCursor.parse(after: nil, store: id.rawValue) == StoreCursor(storeID: id, sequence: 0))
        for bad in ["-1", "+1", " 1", "1.0", "", "x", "99999999999999999999"] {
            let error = #expect(throws: CursorSyntaxError.self) { try StoreCursor.parse(after: bad, store: nil) }
            #expect(error?.field == "after")
        }
        let error = #expect(throws: CursorSyntaxError.self) { try StoreCursor.parse(after: "1", store: "abc") }
        #expect(error?.field == "store")
    }

    @Test func lastEventIDForm() throws {
        #expect(try StoreCursor.parse(lastEventID: "\(id):17") == StoreCursor(storeID: id, sequence: 17))
        #expect(try StoreCursor.parse(lastEventID: "17") == StoreCursor(sequence: 17))
        #expect(StoreCursor(storeID: id, sequence: 17).lastEventID == "\(id):17")
        #expect(StoreCursor(sequence: 17).lastEventID == "17")
        let roundTrip = StoreCursor(storeID: id, sequence: 9_000_000_000)
        #expect(try StoreCursor.parse(lastEventID: roundTrip.lastEventID) == roundTrip)
        for bad in ["", ":", "\(id):", ":17", "\(id):-1", "\(id):1:2", "abc:17", "\(id) :17", "1 7"] {
            let error = #expect(throws: CursorSyntaxError.self) { try StoreCursor.parse(lastEventID: bad) }
            #expect(error?.field == "Last-Event-ID")
        }
    }

    @Test func checksAgainstTheStoresRange() {
        let range = StoreRange(storeID: id, firstSequence: 11, lastSequence: 20)
        #expect(range.firstAvailableAfter == 10)
        #expect(StoreCursor(storeID: id, sequence: 10).problem(in: range) == nil)
        #expect(StoreCursor(storeID: id, sequence: 20).problem(in: range) == nil)
        #expect(StoreCursor(sequence: 15).problem(in: range) == nil)
        #expect(StoreCursor(storeID: id, sequence: 21).problem(in: range) == .beyondEnd(lastSequence: 20))
        #expect(StoreCursor(sequence: 21).problem(in: range) == .beyondEnd(lastSequence: 20))
        #expect(StoreCursor(storeID: id, sequence: 9).problem(in: range) == .expired(firstAvailableAfter: 10))
        // Another store's cursor is refused whatever its sequence.
        #expect(StoreCursor(storeID: other, sequence: 15).problem(in: range) == .otherStore(id))
        #expect(StoreCursor(storeID: other, sequence: 0).problem(in: range) == .otherStore(id))

        // Retention deleted everything: only the end is a valid cursor.
        let emptied = StoreRange(storeID: id, firstSequence: nil, lastSequence: 20)
        #expect(StoreCursor(sequence: 20).problem(in: emptied) == nil)
        #expect(StoreCursor(sequence: 19).problem(in: emptied) == .expired(firstAvailableAfter: 20))
        // A new store: 0 is the only valid cursor.
        let new = StoreRange(storeID: id, firstSequence: nil, lastSequence: 0)
        #expect(StoreCursor(sequence: 0).problem(in: new) == nil)
        #expect(StoreCursor(sequence: 1).problem(in: new) == .beyondEnd(lastSequence: 0))
    }
}
