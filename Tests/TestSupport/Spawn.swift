#if canImport(Glibc)
import Glibc
#endif

/// Runs `arguments` (looked up in PATH) with its output discarded and
/// returns its exit status (-1 when it could not start or was killed).
public func runQuietly(_ arguments: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard let program = argv.first ?? nil, posix_spawnp(&pid, program, &actions, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
}

/// Runs `arguments` inside the network namespace pinned at `namespace` (through util-linux `nsenter`).
public func runQuietly(inNetworkNamespace namespace: String, _ arguments: [String]) -> Int32 {
    runQuietly(["nsenter", "--net=\(namespace)", "--"] + arguments)
}

/// What `nft list table ip TABLE` prints inside the network namespace pinned at `namespace`
/// (Debian's nftables as an oracle), its errors included.
public func nftablesListing(ofTable table: String, inNetworkNamespace namespace: String) -> String {
    guard let pipe = popen("nsenter --net=\(namespace) nft list table ip \(table) 2>&1", "r") else { return "" }
    var output = ""
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), pipe) != nil {
        output += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    pclose(pipe)
    return output
}
