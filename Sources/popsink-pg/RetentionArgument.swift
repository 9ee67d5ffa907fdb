// The spellings `run` accepts for retention: ages like 90m, 36h, 7d (or
// 'forever'), sizes like 500M, 10G (binary units, or 'unlimited').

enum RetentionArgument {
    /// `.some(nil)` for 'forever'; nil when the text is not an age.
    static func age(_ text: String) -> Duration?? {
        if text == "forever" { return .some(nil) }
        guard let (number, unit) = split(text) else { return nil }
        let seconds: Int64? =
            switch unit {
            case "s": 1
            case "m": 60
            case "h": 3600
            case "d": 86_400
            default: nil
            }
        guard let seconds, number > 0, number <= Int64.max / seconds / 1_000_000 else { return nil }
        return .some(.seconds(number * seconds))
    }

    /// `.some(nil)` for 'unlimited'; nil when the text is not a size.
    static func bytes(_ text: String) -> Int64?? {
        if text == "unlimited" { return .some(nil) }
        guard let (number, unit) = split(text) else { return nil }
        let shift: Int64? =
            switch unit.uppercased() {
            case "", "B": 0
            case "K": 10
            case "M": 20
            case "G": 30
            case "T": 40
            default: nil
            }
        guard let shift, number > 0, number <= Int64.max >> shift else { return nil }
        return .some(number << shift)
    }

    private static func split(_ text: String) -> (Int64, String)? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int64(digits) else { return nil }
        return (number, String(text.dropFirst(digits.count)))
    }
}
