import Testing
@testable import ShoalAPI

/// `--mount` as docker's long syntax, `--user UID[:GID]`, and sizes as docker's flags take them.
struct TaskMountTests {
    @Test(arguments: [
        ("type=bind,source=/srv/data,target=/data", TaskMount(kind: .bind, source: "/srv/data", target: "/data")),
        ("type=bind,src=/srv,dst=/data,readonly", TaskMount(kind: .bind, source: "/srv", target: "/data", readOnly: true)),
        ("type=bind,source=/srv,destination=/data,ro=true", TaskMount(kind: .bind, source: "/srv", target: "/data", readOnly: true)),
        ("type=bind,source=/srv,target=/data,readonly=false", TaskMount(kind: .bind, source: "/srv", target: "/data")),
        ("type=tmpfs,target=/cache", TaskMount(kind: .tmpfs, target: "/cache")),
        ("type=tmpfs,dst=/cache,tmpfs-size=64m,ro", TaskMount(kind: .tmpfs, target: "/cache", readOnly: true, tmpfsSize: 64 << 20)),
        ("target=/cache,type=tmpfs,tmpfs-size=4096", TaskMount(kind: .tmpfs, target: "/cache", tmpfsSize: 4096)),
    ])
    func dockersLongSyntaxIsRead(text: String, mount: TaskMount) throws {
        #expect(try TaskMount(parsing: text) == mount)
        #expect(try TaskMount(parsing: mount.text) == mount, "the stored form reads back")
    }

    @Test(arguments: [
        "", "type=volume,source=v,target=/data", "source=/srv,target=/data", "type=bind,target=/data",
        "type=bind,source=relative,target=/data", "type=bind,source=/srv,target=data", "type=bind,source=/srv,target=/",
        "type=bind,source=/srv/../etc,target=/data", "type=tmpfs,source=/srv,target=/data", "type=tmpfs,target=/x,tmpfs-size=1",
        "type=tmpfs,target=/x,tmpfs-size=lots", "type=bind,source=/srv,target=/data,tmpfs-size=64m",
        "type=bind,source=/srv,target=/data,bind-propagation=shared", "type=bind,source=/srv,target=/data,readonly=maybe",
        "type=bind,source=/srv,target", "type=bind,source=/s\u{0}rv,target=/data",
    ])
    func otherMountsAreRefusedInOneLine(text: String) {
        let error = #expect(throws: ShoalError.self) { try TaskMount(parsing: text) }
        #expect(error?.message.contains("\n") == false && error?.message.hasPrefix("invalid --mount") == true)
    }

    @Test func usersAreNumericIDs() throws {
        #expect(try TaskUser(parsing: "1000") == TaskUser(uid: 1000))
        #expect(try TaskUser(parsing: "1000:100") == TaskUser(uid: 1000, gid: 100))
        #expect(try TaskUser(parsing: "0:0").text == "0:0")
        for bad in ["", "nobody", "1000:", ":100", "-1", "4294967295", "1000:users", "1:2:3", "99999999999"] {
            #expect(throws: ShoalError.self, "\(bad)") { try TaskUser(parsing: bad) }
        }
    }

    @Test func sizesAreBytesOrPowersOf1024() {
        #expect(ByteSize.parse("64m", range: 0...Int.max) == 64 << 20)
        #expect(ByteSize.parse("512K", range: 0...Int.max) == 512 << 10)
        #expect(ByteSize.parse("1gb", range: 0...Int.max) == 1 << 30)
        #expect(ByteSize.parse("4096", range: 0...Int.max) == 4096)
        #expect(ByteSize.parse("2g", range: 0...(1 << 30)) == nil, "out of range")
        for bad in ["", "m", "-1k", "1.5m", "99999999999999999999t", "9000000000t"] {
            #expect(ByteSize.parse(bad, range: 0...Int.max) == nil, "\(bad)")
        }
    }
}
