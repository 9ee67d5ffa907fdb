// The report as JSON, for `check --json` and the check endpoint alike.

import JSONText

extension CheckReport {
    /// `passed` is derived but spelled out for readers; `server_version` and
    /// each `remediation` are present as null when unknown or not needed
    /// (openapi.yaml requires them).
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("passed")
        writer.bool(passed)
        writer.key("source")
        writer.string(source)
        writer.key("publication")
        writer.string(publication)
        writer.key("server_version")
        if let serverVersion { writer.string(serverVersion) } else { writer.null() }
        writer.key("checks")
        writer.beginArray()
        for check in checks {
            writer.beginObject()
            writer.key("id")
            writer.string(check.id.rawValue)
            writer.key("title")
            writer.string(check.title)
            writer.key("status")
            writer.string(check.status.rawValue)
            writer.key("detail")
            writer.string(check.detail)
            writer.key("remediation")
            if let remediation = check.remediation { writer.string(remediation) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
