// The README tells an operator how to run the service safely: the minimal
// Postgres role, HTTPS, where the secret key lives and how to rotate it, and
// how certificates reach a source. Each is checked against what the code
// offers (the serve options, the source fields of openapi.yaml), so that a
// security knob added without a word in the README fails here.

import Foundation
import Testing

@Suite struct ReadmeSecurityTests {
    static let root = URL(fileURLWithPath: DashboardTests.publicFolder).deletingLastPathComponent()

    static func text(_ file: String) throws -> String {
        try String(contentsOfFile: root.appendingPathComponent(file).path, encoding: .utf8)
    }

    @Test func theMinimalRoleIsGivenAsSQL() throws {
        let readme = try Self.text("README.md")
        for statement in [
            "CREATE ROLE popsink LOGIN REPLICATION", "GRANT USAGE ON SCHEMA public TO popsink",
            "GRANT SELECT ON public.users, public.orders TO popsink", "row_security = off",
        ] {
            #expect(readme.contains(statement), "README lacks \(statement)")
        }
    }

    @Test func everySecurityOptionOfServeIsDocumented() throws {
        let readme = try Self.text("README.md")
        let serve = try Self.text("Sources/popsink-pg/ServeCommand.swift")
        for option in ["tlsCert", "tlsKey", "certificateDir"] {
            #expect(serve.contains("var \(option)"), "serve no longer has \(option)")
        }
        for word in [
            "--tls-cert", "--tls-key", "kill -HUP", "--secret-key-file", "POPSINK_SECRET_KEY_FILE",
            "popsink-pg rotate-key", "--certificate-dir", "429",
        ] {
            #expect(readme.contains(word), "README lacks \(word)")
        }
    }

    @Test func everyPEMFieldOfTheSourceContractIsDocumented() throws {
        let readme = try Self.text("README.md")
        let fields = try Self.text("openapi.yaml").split(separator: "\n").compactMap { line -> String? in
            let name = line.trimmingCharacters(in: .whitespaces).dropLast()
            return line.hasPrefix("        ") && line.hasSuffix(":") && !name.hasPrefix("has_")
                && (name.hasSuffix("_pem") || name == "sslpassword") ? String(name) : nil
        }
        #expect(Set(fields) == ["sslrootcert_pem", "sslcert_pem", "sslkey_pem", "sslpassword"], "\(fields)")
        for field in fields { #expect(readme.contains("`\(field)`"), "README lacks \(field)") }
    }
}
