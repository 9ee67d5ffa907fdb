// Where a `truncate:N` mask cuts a value: after its first N characters,
// counted as Unicode code points (what Postgres's `left(text, N)` and
// `char_length` count), so the cut never falls inside a UTF-8 sequence.
// Grapheme clusters (a letter and its combining accent, an emoji sequence)
// may be split, as Postgres splits them.

enum UTF8Prefix {
    /// The index just past the first `characters` code points of `bytes`
    /// (its end when it holds fewer). Bytes that are not valid UTF-8 count
    /// by their lead bytes all the same: a continuation byte (10xxxxxx) never
    /// starts a character.
    static func end<Bytes: Collection<UInt8>>(of bytes: Bytes, characters: Int) -> Bytes.Index {
        var seen = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] & 0xC0 != 0x80 {
                if seen == characters { return index }
                seen += 1
            }
            index = bytes.index(after: index)
        }
        return index
    }
}
