// What a new pipeline record means for its worker, decided without HTTP or
// Postgres: the rules `PipelineRegistry.put` and `setFilters` carry out.

import CDC
import ControlPlane
import Sinks
import Testing

@Suite struct PipelineChangeTests {
    static let stored = PipelineRecord(id: "p", sourceID: "s", desiredState: .running, createdAt: "", updatedAt: "")

    static func changed(_ edit: (inout PipelineRecord) -> Void) -> PipelineRecord {
        var record = stored
        edit(&record)
        return record
    }

    @Test func aPipelineThatShouldRunStartsUnlessItRuns() throws {
        #expect(try PipelineChange.of(Self.stored, previous: nil, active: false) == .start)
        // A failed or stopped pipeline starts with the record as stored now.
        #expect(try PipelineChange.of(Self.stored, previous: Self.stored, active: false) == .start)
        #expect(try PipelineChange.of(Self.stored, previous: Self.stored, active: true) == .none)
        let publication = Self.changed { $0.publication = "other" }
        #expect(try PipelineChange.of(publication, previous: Self.stored, active: false) == .start)
    }

    @Test func aPipelineThatShouldNotRunStops() throws {
        let stopped = Self.changed { $0.desiredState = .stopped }
        #expect(try PipelineChange.of(stopped, previous: Self.stored, active: true) == .stop)
        #expect(try PipelineChange.of(stopped, previous: Self.stored, active: false) == .none)
        #expect(try PipelineChange.of(stopped, previous: nil, active: false) == .none)
    }

    @Test func newFiltersRestartARunningPipelineOtherSettingsWaitForItsNextStart() throws {
        let filtered = Self.changed { $0.filters = TableFilter(excludeTables: ["public.secret"]) }
        #expect(try PipelineChange.of(filtered, previous: Self.stored, active: true) == .restart)
        let snapshot = Self.changed {
            $0.snapshot = try! SnapshotSettings(workers: 2, chunkPages: nil, rowsPerGroup: nil)
        }
        #expect(try PipelineChange.of(snapshot, previous: Self.stored, active: true) == .none)
        // Sinks run with the worker and retention on its thread: both apply at once too.
        let retained = Self.changed { $0.retention.maxBytes = 1 << 20 }
        #expect(try PipelineChange.of(retained, previous: Self.stored, active: true) == .restart)
        let sunk = Self.changed {
            $0.sinks = [SinkConfig(name: "k", target: .kafka(KafkaSettings(bootstrapServers: "127.0.0.1:9")))]
        }
        #expect(try PipelineChange.of(sunk, previous: Self.stored, active: true) == .restart)
        #expect(try PipelineChange.of(sunk, previous: Self.stored, active: false) == .start)
    }

    @Test func whatTheStreamReadsCannotChangeUnderARunningWorker() {
        let edits: [(inout PipelineRecord) -> Void] = [
            { $0.sourceID = "other" }, { $0.publication = "other" }, { $0.slotName = "other" },
            { $0.snapshot.enabled = false },
        ]
        for edit in edits {
            #expect(throws: PipelineChange.Refusal.self) {
                try PipelineChange.of(Self.changed(edit), previous: Self.stored, active: true)
            }
            #expect(throws: Never.self) {
                try PipelineChange.of(Self.changed(edit), previous: Self.stored, active: false)
            }
        }
    }

    @Test func activeStatesAreTheOnesWithAWorker() {
        let active = [PipelineState.starting, .snapshotting, .streaming, .retrying, .stopping]
        for state in [
            PipelineState.created, .starting, .snapshotting, .streaming, .retrying, .stopping, .stopped, .finished,
            .failed,
        ] {
            #expect(state.isActive == active.contains(state), "\(state)")
        }
    }
}

extension PipelineChangeTests {
    @Test func newColumnMaskingRestartsAManagedPublicationNeedsAStop() throws {
        let masked = Self.changed { $0.columns = ColumnMask(exclude: ["ssn"], hashKey: "0123456789abcdef") }
        #expect(try PipelineChange.of(masked, previous: Self.stored, active: true) == .restart)
        let managed = Self.changed { $0.publicationMode = .managed }
        #expect(throws: PipelineChange.Refusal.self) {
            try PipelineChange.of(managed, previous: Self.stored, active: true)
        }
        #expect(try PipelineChange.of(managed, previous: Self.stored, active: false) == .start)
    }
}
