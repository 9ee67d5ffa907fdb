// Row filters and the publication mode together: a pipeline's row filters
// are only valid with a managed publication. Apart from the row filters'
// parsing, which needs nothing of the engine but the filter types.

import CDC

extension JSONInput {
    /// Row filters are pushed into a publication popsink owns; an existing
    /// one is the user's, and popsink does not filter rows itself.
    mutating func rowFiltersNeedManagedPublication(_ filters: TableFilter, mode: PublicationMode, field: String) {
        guard mode != .managed, !filters.rows.isEmpty else { return }
        fail(
            field,
            "needs a managed publication (\"publication\": {\"mode\": \"managed\"}): row filters are set in the "
                + "publication popsink creates, and an existing publication is the user's to change")
    }
}
