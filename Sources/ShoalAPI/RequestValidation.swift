import Addressing

/// A request body the daemon checks as soon as it is decoded, with the
/// ranges the CLI uses (`Limits`): nothing out of range reaches the swarm,
/// whichever client sent it.
public protocol ValidatedRequest: Decodable {
    /// The first problem, as a one-line error.
    func validate() throws(ShoalError)
}

/// The longest reference (a name, an id or a prefix of one) a request may carry.
let maximumReferenceLength = 256

private func checkReference(_ text: String, _ what: String) throws(ShoalError) {
    guard !text.isEmpty, text.utf8.count <= maximumReferenceLength else {
        throw ShoalError("invalid \(what) \"\(text.prefix(64))\"", hint: "give a name or id of at most \(maximumReferenceLength) characters")
    }
}

private func checkListenAddress(_ text: String?) throws(ShoalError) {
    guard let text else { return }
    guard HostPort(text)?.hasIPv4Host == true else {
        throw ShoalError("invalid listen address \"\(text.prefix(64))\"", hint: "use ADDRESS:PORT, e.g. 0.0.0.0:2377")
    }
}

private func checkAdvertiseAddress(_ text: String?) throws(ShoalError) {
    guard let text else { return }
    guard Limits.isPlainToken(text, maximumBytes: 64) else {
        throw ShoalError("invalid advertise address \"\(text.prefix(64))\"", hint: "use an interface name or IP[:PORT]")
    }
}

extension SwarmInitRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        guard Limits.heartbeatPeriodSeconds.contains(heartbeatPeriod) else {
            throw ShoalError("invalid heartbeat period \(heartbeatPeriod)",
                             hint: "use \(Limits.heartbeatPeriodSeconds.lowerBound) to \(Limits.heartbeatPeriodSeconds.upperBound) seconds")
        }
        try checkAdvertiseAddress(advertiseAddress)
        try checkListenAddress(listenAddress)
        try checkCertificateExpiry(certExpirySeconds)
        if let problem = AddressPools.problem(addressPools, subnetPrefixLength: addressPoolMaskLength) { throw ShoalError(problem) }
    }
}

extension SwarmUpdateRequest: ValidatedRequest {
    public func validate() throws(ShoalError) { try checkCertificateExpiry(certExpirySeconds) }
}

private func checkCertificateExpiry(_ seconds: Double?) throws(ShoalError) {
    if let seconds, let problem = CertificateExpiry.problem(seconds) { throw ShoalError(problem) }
}

extension SwarmJoinRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        guard !token.isEmpty, token.utf8.count <= 256 else {
            throw ShoalError("invalid join token", hint: "copy it from 'shoal swarm join-token worker' on a manager")
        }
        guard remoteAddress.utf8.count <= 256, !remoteAddress.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }),
              HostPort(remoteAddress, defaultPort: Defaults.clusterPort) != nil else {
            throw ShoalError("invalid manager address \"\(remoteAddress.prefix(64))\"", hint: "use HOST[:PORT], e.g. 10.0.0.1:2377")
        }
        try checkAdvertiseAddress(advertiseAddress)
        try checkListenAddress(listenAddress)
    }
}

extension NodeChangeRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        try checkReference(node, "node")
        if let availability, !["active", "pause", "drain"].contains(availability) {
            throw ShoalError("invalid availability \"\(availability.prefix(64))\"", hint: "use active, pause or drain")
        }
    }
}

extension ServiceSpecRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        guard Limits.durationSeconds.contains(restartDelaySeconds) else {
            throw ShoalError("invalid restart delay \(restartDelaySeconds) s",
                             hint: "use 0 to \(Durations.text(Limits.durationSeconds.upperBound))")
        }
        guard Limits.restartMaxAttempts.contains(restartMaxAttempts) else {
            throw ShoalError("invalid restart max attempts \(restartMaxAttempts)",
                             hint: "use 0 (no limit) to \(Limits.restartMaxAttempts.upperBound)")
        }
        if let workdir, !workdir.hasPrefix("/") || workdir.utf8.contains(0) {
            throw ShoalError("invalid working directory \"\(workdir.prefix(64))\"", hint: "use an absolute path")
        }
        if (command + env).contains(where: { $0.utf8.contains(0) }) {
            throw ShoalError("the command or environment of service \(name.prefix(64)) holds a NUL byte", hint: "remove it")
        }
        try checkNetworkReferences(networks)
        try checkPorts(ports, removing: [])
        _ = try Capabilities.normalize(capabilityAdd, option: "--cap-add")
        _ = try Capabilities.normalize(capabilityDrop, option: "--cap-drop")
        try SecurityOptions.validate(securityOptions)
        guard mounts.count <= 64 else { throw ShoalError("\(mounts.count) mounts given", hint: "give a service 64 at most") }
        for mount in mounts { _ = try TaskMount(parsing: mount) }
        if let user { _ = try TaskUser(parsing: user) }
        try resources.validate()
    }
}

/// `--publish` values: a bounded list, each within its ranges.
private func checkPorts(_ ports: [PortConfig], removing removed: [String]) throws(ShoalError) {
    guard Limits.portsPerService.contains(ports.count), Limits.portsPerService.contains(removed.count) else {
        throw ShoalError("\(max(ports.count, removed.count)) published ports given", hint: "publish \(Limits.portsPerService.upperBound) at most")
    }
    if let problem = ports.lazy.compactMap(\.problem).first { throw ShoalError("invalid published port: \(problem)") }
    for text in removed {
        if let problem = try PortConfig(parsing: text).problem { throw ShoalError("invalid port to remove: \(problem)") }
    }
}

/// `--network` values: a bounded list of names or ids.
private func checkNetworkReferences(_ references: [String]) throws(ShoalError) {
    guard references.count <= 64 else { throw ShoalError("\(references.count) networks given", hint: "attach a service to 16 at most") }
    for reference in references { try checkReference(reference, "network") }
}

extension ServiceUpdateRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        try checkReference(service, "service")
        if let replicas, replicas < 0 {
            throw ShoalError("invalid replicas value \(replicas)", hint: "use a whole number, 0 or more")
        }
        if ((command ?? []) + envAdd).contains(where: { $0.utf8.contains(0) }) {
            throw ShoalError("the new command or environment holds a NUL byte", hint: "remove it")
        }
        try checkNetworkReferences(networkAdd)
        try checkNetworkReferences(networkRemove)
        try checkPorts(publishAdd, removing: publishRemove)
        _ = try Capabilities.normalize(capabilityAdd, option: "--cap-add")
        _ = try Capabilities.normalize(capabilityDrop, option: "--cap-drop")
        guard mountAdd.count <= 64, mountRemove.count <= 64 else {
            throw ShoalError("\(max(mountAdd.count, mountRemove.count)) mounts given", hint: "give a service 64 at most")
        }
        for mount in mountAdd { _ = try TaskMount(parsing: mount) }
        if let target = mountRemove.first(where: { !$0.hasPrefix("/") || $0.utf8.count > 4096 || $0.utf8.contains(0) }) {
            throw ShoalError("invalid --mount-rm \"\(target.prefix(64))\"", hint: "name a mount's target, an absolute path")
        }
        if let user { _ = try TaskUser(parsing: user) }
        // Each value given alone must be one a service may hold; together with the service's they are checked by the daemon.
        try resources.applied(to: Resources()).validateRanges()
    }
}

extension NetworkCreateRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        guard ObjectName.isValid(name) else { throw ShoalError(ObjectName.problem(name, kind: "network")) }
        guard driver.utf8.count <= 64 else { throw ShoalError("invalid driver \"\(driver.prefix(64))\"", hint: "use overlay") }
        guard Limits.labelsFit(labels) else {
            throw ShoalError("too many or too long labels",
                             hint: "give at most \(Limits.labelsPerObject), keys up to \(Limits.labelKeyBytes.upperBound) bytes, values up to \(Limits.labelValueBytes)")
        }
    }
}

extension NetworkReferenceRequest: ValidatedRequest {
    public func validate() throws(ShoalError) { try checkReference(network, "network") }
}

extension ServiceReferenceRequest: ValidatedRequest {
    public func validate() throws(ShoalError) { try checkReference(service, "service") }
}

extension LogsRequest: ValidatedRequest {
    /// Tasks one `service logs` call may follow at once.
    static let maximumCursorEntries = 100_000

    public func validate() throws(ShoalError) {
        try checkReference(target, "service or task")
        if let tail, !Limits.logTailLines.contains(tail) {
            throw ShoalError("invalid --tail value \(tail)", hint: "use 0 to \(Limits.logTailLines.upperBound) lines")
        }
        guard cursor.count <= Self.maximumCursorEntries,
              cursor.allSatisfy({ ObjectID.isValid($0.key) && Limits.logOffset.contains($0.value) }) else {
            throw ShoalError("invalid logs cursor", hint: "pass back the cursor of the previous answer unchanged")
        }
    }
}

extension OneOffRequest: ValidatedRequest {
    public func validate() throws(ShoalError) {
        try checkReference(network, "network")
        if let name { try checkReference(name, "one-off") }
        if env.contains(where: { $0.utf8.contains(0) }) {
            throw ShoalError("an environment variable of the one-off holds a NUL byte", hint: "remove it")
        }
    }
}
