// `popsink-pg rotate-key`: a new key for the state store's secrets, every
// secret sealed again under it, the old key removed from the key file. Safe
// while `serve` runs on the same data directory (StateKeyRotation explains why).

import ArgumentParser
import ControlPlane
import Foundation

struct RotateKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Seal the state store's secrets under a new key and retire the old one.",
        discussion: """
            Works while serve runs: serve reads the key file again when it changes. Back up the key file with \
            the data directory; without it the stored passwords cannot be opened.
            """)

    @Option(help: ArgumentHelp("The data directory that serve uses.", valueName: "path"))
    var dataDir = "./popsink-data"

    @OptionGroup var key: SecretKeyFileOption

    func run() throws {
        let storePath = "\(dataDir)/state.sqlite"
        let keyFile = key.location(storePath: storePath).path
        guard FileManager.default.fileExists(atPath: keyFile) else {
            throw ValidationError("The secret key file \(keyFile) does not exist: there is nothing to rotate.")
        }
        let outcome: StateKeyRotation.Outcome
        do {
            outcome = try StateKeyRotation.rotate(storePath: storePath, keyFile: keyFile)
        } catch {
            throw ValidationError("rotate-key failed: \(error)")
        }
        print(
            "Key \(outcome.previousKeyID) replaced by \(outcome.newKeyID) in \(keyFile); "
                + "\(outcome.resealedRecords) record(s) sealed again.")
    }
}
