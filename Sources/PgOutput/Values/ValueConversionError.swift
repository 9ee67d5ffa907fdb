// Why a column value's text could not be converted to its kind's JSON form.

/// A value whose text does not have the form its kind expects.
public struct ValueConversionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: ValueKind
    /// The value's text as received.
    public let text: [UInt8]
    public let reason: String

    /// An error for `text`, a value of `kind`.
    public init(kind: ValueKind, text: some Sequence<UInt8>, reason: String) {
        self.kind = kind
        self.text = Array(text)
        self.reason = reason
    }

    public var description: String {
        let shown = String(decoding: text.prefix(200), as: UTF8.self)
        return "cannot convert \(kind) value '\(shown)\(text.count > 200 ? "…" : "")': \(reason)"
    }
}
