#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ShoalAPI

@Suite struct AtomicWriteTests {
    @Test func aWholeFileReplacesTheOldOneAndNoTemporaryStays() throws {
        var template = Array("/tmp/shoal-atomic-test-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { FileSystem.removeTree(directory) }
        try FileSystem.writeAtomically("\(directory)/identity.json", Array("old".utf8))
        try FileSystem.writeAtomically("\(directory)/identity.json", Array("new".utf8))
        #expect(FileSystem.read("\(directory)/identity.json") == Array("new".utf8))
        #expect(FileSystem.list(directory) == ["identity.json"])
        #expect(FileSystem.syncDirectory(containing: "\(directory)/identity.json"))
        #expect(!FileSystem.syncDirectory(containing: "/no/such/directory/file"))
    }

    /// Every write-temp-then-rename goes through `FileSystem.writeAtomically`
    /// (which fsyncs the directory after the rename): no other source renames a file into place.
    @Test func theHelperIsTheOnlyPlaceThatRenamesIntoPlace() throws {
        let sources = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        let root = "/" + sources + "/Sources"
        // The WAL's own file system syncs its directories itself; the lab's and the
        // force-new-cluster renames move directories, not written files.
        let allowed: Set<String> = ["ShoalAPI/FileSystem.swift", "ShoalAPI/RotatingLog.swift",
                                    "RaftStorage/PosixFileSystem.swift", "RaftStorage/InMemoryFileSystem.swift",
                                    "RaftStorage/FileSystem.swift", "RaftStorage/WAL.swift", "Manager/ForceNewCluster.swift"]
        var offenders: [String] = []
        func scan(_ relative: String) {
            let path = relative.isEmpty ? root : "\(root)/\(relative)"
            for name in FileSystem.list(path) {
                let child = relative.isEmpty ? name : "\(relative)/\(name)"
                if name.hasSuffix(".swift") {
                    let text = String(decoding: FileSystem.read("\(root)/\(child)") ?? [], as: UTF8.self)
                    if text.contains("rename(") && !allowed.contains(child) { offenders.append(child) }
                } else if !name.contains(".") {
                    scan(child)
                }
            }
        }
        scan("")
        #expect(FileSystem.exists("\(root)/ShoalAPI/FileSystem.swift"), "found the sources at \(root)")
        #expect(offenders.isEmpty, "renames outside FileSystem.writeAtomically: \(offenders)")
    }
}
