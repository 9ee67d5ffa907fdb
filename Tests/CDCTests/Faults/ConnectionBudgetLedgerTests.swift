// The connection budget's arithmetic, without Postgres: sessions take their
// connections whole or not at all, load workers take what is left, and the
// refusal names the budget and who holds it.

import Testing

@testable import CDC

@Suite struct ConnectionBudgetLedgerTests {
    @Test func sessionsTakeWholeReservationsOrNothing() {
        var ledger = ConnectionBudgetLedger(limit: 7)
        let r1 = ledger.take(3, for: "a")
        #expect(r1)
        let r2 = ledger.take(3, for: "b")
        #expect(r2)
        let r3 = ledger.take(3, for: "c")
        #expect(!r3)
        #expect(ledger.held["c"] == nil)
        #expect(ledger.free == 1)
        ledger.give(3, from: "a")
        let r4 = ledger.take(3, for: "c")
        #expect(r4)
        #expect(ledger.held == ["b": 3, "c": 3])
    }

    @Test func workersTakeWhatIsLeft() {
        var ledger = ConnectionBudgetLedger(limit: 8)
        let r5 = ledger.take(3, for: "a")
        #expect(r5)
        let r6 = ledger.take(3, for: "b")
        #expect(r6)
        let r7 = ledger.takeUpTo(4, for: "a")
        #expect(r7 == 2)
        let r8 = ledger.takeUpTo(4, for: "b")
        #expect(r8 == 0)
        #expect(ledger.held["b"] == 3)
        ledger.give(2, from: "a")
        let r9 = ledger.takeUpTo(4, for: "b")
        #expect(r9 == 2)
        #expect(ledger.inUse == 8)
    }

    @Test func aLowerLimitTakesNothingBackButAdmitsNoMore() {
        var ledger = ConnectionBudgetLedger(limit: 10)
        let r10 = ledger.take(6, for: "a")
        #expect(r10)
        ledger.setLimit(4)
        #expect(ledger.held["a"] == 6)
        #expect(ledger.free == 0)
        let r11 = ledger.takeUpTo(1, for: "b")
        #expect(r11 == 0)
        ledger.give(6, from: "a")
        #expect(ledger.free == 4)
    }

    @Test func theRefusalNamesTheBudgetAndItsHolders() throws {
        let budget = SourceConnectionBudget(source: "db.example:5432/app", limit: 5)
        let first = try budget.reserve(3, for: "orders", purpose: "its session")
        do {
            _ = try budget.reserve(3, for: "billing", purpose: "its replication, catalog and load connections")
            Issue.record("a reservation over the budget was granted")
        } catch {
            #expect(error.code == .connectionLimit)
            #expect(error.isRetryable)
            #expect(error.message.contains("db.example:5432/app"))
            #expect(error.message.contains("max_connections 5"))
            #expect(error.message.contains("orders (3)"))
            #expect(error.message.contains("billing needs 3"))
            #expect(error.remediation?.contains("max_connections") == true)
        }
        first.release()
        #expect(budget.inUse == 0)
        let second = try budget.reserve(3, for: "billing", purpose: "its session")
        #expect(budget.reserveUpTo(5, for: "billing").count == 2)
        second.release()
        #expect(budget.inUse == 2)
    }

    @Test func pipelinesOfOneSourceShareOneBudget() {
        let budgets = SourceConnectionBudgets()
        let a = budgets.budget(source: "h:5432/db", limit: 6)
        let b = budgets.budget(source: "h:5432/db", limit: 6)
        let other = budgets.budget(source: "h:5432/other", limit: 6)
        #expect(a === b)
        #expect(a !== other)
        _ = a.reserveUpTo(6, for: "x")
        #expect(b.reserveUpTo(1, for: "y").count == 0)
        #expect(other.reserveUpTo(1, for: "y").count == 1)
    }
}
