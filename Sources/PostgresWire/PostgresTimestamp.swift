// Timestamps as the replication protocol carries them: microseconds since
// 2000-01-01 00:00:00 UTC (the Postgres epoch), in a signed 64-bit integer.

/// A point in time as Postgres sends it on the replication protocol.
public struct PostgresTimestamp: RawRepresentable, Hashable, Comparable, Sendable {
    /// Microseconds since 2000-01-01 00:00:00 UTC.
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Seconds from the Unix epoch to the Postgres epoch.
    public static let unixEpochOffsetSeconds: Int64 = 946_684_800

    public init(unixMicroseconds: Int64) {
        rawValue = unixMicroseconds - Self.unixEpochOffsetSeconds * 1_000_000
    }

    public var unixMicroseconds: Int64 { rawValue + Self.unixEpochOffsetSeconds * 1_000_000 }
    public var unixMilliseconds: Int64 { unixMicroseconds / 1_000 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// ISO 8601 in UTC with microseconds, `2026-11-24T10:00:00.123456Z`.
    public var iso8601: String {
        var micros = unixMicroseconds
        var seconds = micros / 1_000_000
        micros %= 1_000_000
        if micros < 0 {
            micros += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
            + ".\(pad(micros, 6))Z"
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
    /// `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
