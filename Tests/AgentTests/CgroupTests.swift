#if canImport(Glibc)
import Glibc
#endif
import ShoalAPI
import Testing
@testable import Agent

/// Which cgroup files a task's limits go to, on both cgroup versions; v2's on a fake tree.
struct CgroupTests {
    static let hybridMountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """
    static let unifiedMountinfo = """
        22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """
    static let task = "abcdefghijklmnopqrstuvwxy"
    static let limits = Resources(limitNanoCPUs: 500_000_000, limitMemoryBytes: 32 << 20, limitPids: 20,
                                  reservedMemoryBytes: 16 << 20)

    @Test func aHybridHostUsesItsV1ControllersEachUnderTheNodesOwnParent() throws {
        let layout = try #require(CgroupLayout(mountinfo: Self.hybridMountinfo, dataDirectory: "/var/lib/shoal-lab/n1/data"))
        #expect(layout.directories(of: Self.task) == [
            "/sys/fs/cgroup/memory/shoal/var-lib-shoal-lab-n1-data/\(Self.task)",
            "/sys/fs/cgroup/cpu,cpuacct/shoal/var-lib-shoal-lab-n1-data/\(Self.task)",
            "/sys/fs/cgroup/pids/shoal/var-lib-shoal-lab-n1-data/\(Self.task)",
        ])
        let settings = layout.settings(of: Self.task, for: Self.limits).map { "\($0.file.split(separator: "/").last ?? "")=\($0.value)" }
        #expect(settings == ["memory.limit_in_bytes=33554432", "cpu.cfs_period_us=100000", "cpu.cfs_quota_us=50000", "pids.max=20"])
        #expect(layout.preparation.isEmpty)
        #expect(layout.oomCounter(of: Self.task) == "/sys/fs/cgroup/memory/shoal/var-lib-shoal-lab-n1-data/\(Self.task)/memory.oom_control")
        let other = try #require(CgroupLayout(mountinfo: Self.hybridMountinfo, dataDirectory: "/var/lib/shoal-lab/n2/data"))
        #expect(Set(other.parents).isDisjoint(with: layout.parents), "two lab nodes never share a parent")
    }

    @Test func aUnifiedHostUsesOneDirectoryWithV2Files() throws {
        let layout = try #require(CgroupLayout(mountinfo: Self.unifiedMountinfo, dataDirectory: "/var/lib/shoal"))
        #expect(layout.directories(of: Self.task) == ["/sys/fs/cgroup/shoal/var-lib-shoal/\(Self.task)"])
        let settings = layout.settings(of: Self.task, for: Self.limits).map { "\($0.file.split(separator: "/").last ?? "")=\($0.value)" }
        #expect(settings == ["memory.max=33554432", "cpu.max=50000 100000", "pids.max=20"])
        #expect(layout.preparation.map(\.file) == ["/sys/fs/cgroup/cgroup.subtree_control", "/sys/fs/cgroup/shoal/cgroup.subtree_control",
                                                   "/sys/fs/cgroup/shoal/var-lib-shoal/cgroup.subtree_control"])
        #expect(layout.settings(of: Self.task, for: Resources(reservedMemoryBytes: 1 << 30)).isEmpty, "a reservation limits nothing")
        #expect(CgroupLayout(mountinfo: "22 28 0:21 / /sys rw - sysfs sysfs rw", dataDirectory: "/d") == nil)
    }

    @Test func oomKillsAreReadFromEitherVersionsCounter() {
        #expect(CgroupLayout.oomKills(in: "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n") == 1)
        #expect(CgroupLayout.oomKills(in: "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n") == 2)
        #expect(CgroupLayout.oomKills(in: "oom_kill_disable 0\nunder_oom 0\n") == 0)
    }

    @Test func aFakeV2TreeGetsTheTasksCgroupItsLimitsAndLosesIt() throws {
        let root = "/tmp/shoal-cgroup-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectory(root, mode: 0o755)
        defer { FileSystem.removeTree(root) }
        let tree = CgroupTree(layout: CgroupLayout(hierarchy: .unified(root), dataDirectory: "/data"))
        let directories = try tree.create(taskID: Self.task, resources: Self.limits)
        #expect(directories == ["\(root)/shoal/data/\(Self.task)"])
        func read(_ path: String) -> String { String(decoding: FileSystem.read(path) ?? [], as: UTF8.self) }
        #expect(read("\(root)/cgroup.subtree_control") == "+memory +cpu +pids")
        #expect(read("\(directories[0])/memory.max") == "33554432" && read("\(directories[0])/pids.max") == "20")
        #expect(tree.taskIDs() == [Self.task])
        #expect(!tree.oomKilled(taskID: Self.task))
        try FileSystem.writeAtomically("\(directories[0])/memory.events", Array("oom 1\noom_kill 1\n".utf8), mode: 0o644)
        #expect(tree.oomKilled(taskID: Self.task))
        // A real cgroup's files go with it; a fake one's must go first.
        for file in FileSystem.list(directories[0]) { unlink("\(directories[0])/\(file)") }
        #expect(tree.remove(taskID: Self.task))
        #expect(tree.taskIDs().isEmpty)
    }
}
