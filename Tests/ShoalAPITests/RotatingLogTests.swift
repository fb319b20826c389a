#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ShoalAPI

@Suite struct RotatingLogTests {
    private func temporaryDirectory() throws -> String {
        var template = Array("/tmp/shoal-log-test-XXXXXX".utf8CString)
        return String(cString: try #require(mkdtemp(&template)))
    }

    private func size(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    @Test func rotatesAtTheSizeAndKeepsAtMostTheFiles() throws {
        let directory = try temporaryDirectory()
        defer { FileSystem.removeTree(directory) }
        let path = "\(directory)/out.log"
        let log = try RotatingLog(path: path, limits: .init(maximumBytes: 100, maximumFiles: 3))
        for index in 0..<50 { log.append(Array("line \(index < 10 ? "0" : "")\(index)\n".utf8)) }  // 8 bytes each
        #expect(FileSystem.list(directory).sorted() == ["out.log", "out.log.1", "out.log.2", "out.log.start"])
        for file in ["out.log", "out.log.1", "out.log.2"] { #expect((size("\(directory)/\(file)") ?? 999) <= 100) }
        // 400 bytes written: 96 + 96 + 16 kept, the oldest gone.
        #expect(RotatingLog.range(path) == 192..<400)
        let all = RotatingLog.read(path, from: 0, maximumBytes: 1000)
        #expect(all.start == 192, "an offset already rotated away moves to the oldest kept byte")
        #expect(String(decoding: all.bytes, as: UTF8.self).hasPrefix("line 24\n"))
        #expect(String(decoding: all.bytes, as: UTF8.self).hasSuffix("line 49\n"))
    }

    @Test func moreThanAFileHoldsIsSpreadOverFilesCutAtLineEnds() throws {
        let directory = try temporaryDirectory()
        defer { FileSystem.removeTree(directory) }
        let path = "\(directory)/out.log"
        let log = try RotatingLog(path: path, limits: .init(maximumBytes: 20, maximumFiles: 3))
        // 50 lines of 8 bytes in one write, as a task's whole output read at once.
        let text = (0..<50).map { "line \($0 < 10 ? "0" : "")\($0)\n" }.joined()
        log.append(Array(text.utf8))
        for file in ["out.log", "out.log.1", "out.log.2"] { #expect(size("\(directory)/\(file)") == 16, "\(file)") }
        let kept = String(decoding: RotatingLog.read(path, from: 0, maximumBytes: 1000).bytes, as: UTF8.self)
        #expect(kept == "line 44\nline 45\nline 46\nline 47\nline 48\nline 49\n")
        #expect(RotatingLog.range(path) == 352..<400)
        // A line longer than a file is cut at the limit.
        log.append(Array((String(repeating: "x", count: 45) + "\n").utf8))
        #expect(size(path) == 6 && size("\(path).1") == 20 && size("\(path).2") == 20)
        #expect(RotatingLog.piece(of: Array("ab\ncd\nef".utf8)[...], room: 7) == Array("ab\ncd\n".utf8)[...])
    }

    @Test func readsAcrossARotationBoundaryWithStableOffsets() throws {
        let directory = try temporaryDirectory()
        defer { FileSystem.removeTree(directory) }
        let path = "\(directory)/out.log"
        let log = try RotatingLog(path: path, limits: .init(maximumBytes: 16, maximumFiles: 3))
        log.append(Array("aaaaaaa\n".utf8))
        log.append(Array("bbbbbbb\n".utf8))
        log.append(Array("ccccccc\n".utf8))  // rotates: out.log.1 holds a and b
        let piece = RotatingLog.read(path, from: 12, maximumBytes: 8)
        #expect(piece.start == 12)
        #expect(String(decoding: piece.bytes, as: UTF8.self) == "bbb\ncccc")
        for letter in ["d", "e", "f", "g"] { log.append(Array((String(repeating: letter, count: 7) + "\n").utf8)) }
        // Rotated twice more: a and b are gone, and the offsets did not move.
        #expect(RotatingLog.range(path) == 16..<56)
        #expect(String(decoding: RotatingLog.read(path, from: 24, maximumBytes: 100).bytes, as: UTF8.self)
            == "ddddddd\neeeeeee\nfffffff\nggggggg\n")
        // Reopened (a daemon restart): the offsets hold.
        let reopened = try RotatingLog(path: path, limits: .init(maximumBytes: 16, maximumFiles: 3))
        reopened.append(Array("h\n".utf8))
        #expect(RotatingLog.range(path) == 16..<58)
    }

    @Test func offsetsOutsideTheLogAreClamped() throws {
        let directory = try temporaryDirectory()
        defer { FileSystem.removeTree(directory) }
        let path = "\(directory)/out.log"
        #expect(RotatingLog.read(path, from: -5, maximumBytes: 10).bytes.isEmpty)
        let log = try RotatingLog(path: path, limits: .standard)
        log.append(Array("hello\n".utf8))
        #expect(RotatingLog.read(path, from: -5, maximumBytes: 10) == (Array("hello\n".utf8), 0))
        #expect(RotatingLog.read(path, from: Int.max, maximumBytes: 10) == ([], 6))
        #expect(RotatingLog.read(path, from: Int.min, maximumBytes: Int.max).start == 0)
    }
}
