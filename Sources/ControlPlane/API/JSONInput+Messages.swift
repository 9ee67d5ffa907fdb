// The `messages` object of a pipeline (openapi.yaml: MessageFilter):
// `{"prefixes": ["app."]}`, the prefixes of the user's logical messages to
// pass on as `m` events. Errors are named by their dotted path.

import CDC
import Foundation

extension JSONInput {
    /// The filter, or nil when the object is absent or null (no messages) or
    /// has errors, which are recorded.
    mutating func messages(_ field: String) -> MessageFilter? {
        guard let map = nestedObject(field, known: ["prefixes"]) else { return nil }
        let errorsBefore = errors.count
        let prefixes = stringList("\(field).prefixes", in: map["prefixes"]) ?? []
        for prefix in prefixes where MessageFilter.reservedPrefixes.contains(prefix) {
            fail("\(field).prefixes", "'\(prefix)' is popsink's own prefix; its messages are never passed on")
        }
        guard errors.count == errorsBefore else { return nil }
        return MessageFilter(prefixes: prefixes)
    }
}
