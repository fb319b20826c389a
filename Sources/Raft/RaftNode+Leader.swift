extension RaftNode {
    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum && !checkQuorumActive() {
                // Check-quorum: we could not hear a quorum for a whole election timeout.
                becomeFollower(term: term, leader: 0)
                return
            }
            // A transfer that did not finish within an election timeout is abandoned.
            leadTransferee = 0
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: [])
        }
    }

    /// Whether a quorum of voters was heard from during the last period; starts a new period.
    private mutating func checkQuorumActive() -> Bool {
        var active = 0
        for member in progress.keys {
            if voters.contains(member) && (member == id || progress[member]?.recentActive == true) {
                active += 1
            }
            if member != id { progress[member]?.recentActive = false }
        }
        return active >= quorum
    }

    mutating func stepLeader(_ message: Message) {
        switch message.kind {
        case .appendResponse:
            handleAppendResponse(message)
        case .heartbeatResponse:
            handleHeartbeatResponse(message)
        case .readIndex:
            if !message.context.isEmpty && progress[message.from] != nil {
                handleReadIndex(from: message.from, context: message.context)
            }
        default:
            break
        }
    }

    /// Appends local proposals (indexes and terms are assigned here) and replicates them.
    @discardableResult
    mutating func appendEntries(_ newEntries: [Entry]) -> UInt64 {
        var last = log.lastIndex
        let stamped = newEntries.map { entry -> Entry in
            last += 1
            return Entry(term: term, index: last, kind: entry.kind, data: entry.data)
        }
        log.append(stamped)
        syncMembership()
        _ = progress[id]?.maybeUpdate(last)
        if maybeCommit() {
            afterCommit()
        } else {
            broadcastAppend()
        }
        return last
    }

    // MARK: - Replication

    mutating func broadcastAppend() {
        for peer in progress.keys.sorted() where peer != id {
            sendAppend(to: peer)
        }
    }

    /// Sends `peer` the entries it lacks (or a snapshot if they are compacted away), unless its
    /// progress is paused (probing, in-flight window full, or waiting for a snapshot).
    /// Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, sendIfEmpty: Bool = true) -> Bool {
        guard var p = progress[peer], !p.isPaused else { return false }
        defer { progress[peer] = p }
        let previousIndex = p.next - 1
        guard let previousTerm = log.term(at: previousIndex),
              let toSend = log.entries(from: p.next, maxBytes: config.maxMessageBytes) else {
            return sendSnapshot(to: peer, progress: &p)
        }
        if toSend.isEmpty && !sendIfEmpty { return false }
        var message = Message(kind: .append, from: id, to: peer, term: term)
        message.index = previousIndex
        message.logTerm = previousTerm
        message.entries = toSend
        message.commit = log.committed
        switch p.state {
        case .replicate:
            if let last = toSend.last?.index {
                p.next = last + 1
                p.inflights.add(last)
            }
        case .probe:
            p.probeSent = true
        case .snapshot:
            break
        }
        send(message)
        return true
    }

    private mutating func sendSnapshot(to peer: NodeID, progress p: inout Progress) -> Bool {
        guard p.recentActive, let snap = log.snapshot else { return false }
        var message = Message(kind: .installSnapshot, from: id, to: peer, term: term)
        message.snapshot = snap
        p.becomeSnapshot(index: snap.metadata.index)
        send(message)
        return true
    }

    mutating func broadcastHeartbeat(context: [UInt8]) {
        for peer in progress.keys.sorted() where peer != id {
            var message = Message(kind: .heartbeat, from: id, to: peer, term: term)
            // Only what the follower provably holds may be declared committed to it.
            message.commit = min(progress[peer]?.match ?? 0, log.committed)
            message.context = context
            send(message)
        }
    }

    mutating func sendTimeoutNow(to peer: NodeID) {
        send(Message(kind: .timeoutNow, from: id, to: peer, term: term))
    }

    /// §5.3, §5.4.2: the commit index is the highest index stored on a quorum of voters,
    /// provided that entry is from the current term. Returns whether it moved.
    mutating func maybeCommit() -> Bool {
        let matches = voters.map { progress[$0]?.match ?? 0 }.sorted(by: >)
        guard !matches.isEmpty, matches.count >= quorum else { return false }
        let candidate = matches[quorum - 1]
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        log.advanceCommit(to: candidate)
        return true
    }

    /// After the commit index moved: tell followers, answer reads that waited for a commit in
    /// this term, and step down if a committed change removed or demoted this leader.
    mutating func afterCommit() {
        releaseReadsAwaitingCommit()
        broadcastAppend()
        if !voters.contains(id) && log.committed >= log.lastConfIndex {
            stepDownAfterRemoval()
        }
    }

    /// The leader is no longer a voter and that is committed: hand off to the most caught-up
    /// voter with `timeoutNow` (so there is no election timeout's gap), then follow.
    private mutating func stepDownAfterRemoval() {
        let lastIndex = log.lastIndex
        if let successor = voters.sorted().first(where: { progress[$0]?.match == lastIndex }) {
            sendTimeoutNow(to: successor)
        }
        becomeFollower(term: term, leader: 0)
    }

    private mutating func handleAppendResponse(_ message: Message) {
        guard var p = progress[message.from] else { return }
        p.recentActive = true
        if message.reject {
            var hint = min(message.rejectHint, log.lastIndex)
            if message.logTerm > 0 {
                hint = log.findConflictByTerm(index: hint, term: message.logTerm).index
            }
            if p.maybeDecrease(rejected: message.index, matchHint: hint) {
                if p.state == .replicate { p.becomeProbe() }
                progress[message.from] = p
                sendAppend(to: message.from)
            } else {
                progress[message.from] = p
            }
            return
        }
        guard message.index <= log.lastIndex else {
            progress[message.from] = p
            return
        }
        let wasPaused = p.isPaused
        let updated = p.maybeUpdate(message.index)
        if updated || (p.state == .probe && p.match == message.index) {
            switch p.state {
            case .probe:
                p.becomeReplicate()
            case let .snapshot(pending) where p.match >= pending:
                p.becomeProbe()
                p.becomeReplicate()
            case .replicate:
                p.inflights.free(upTo: message.index)
            case .snapshot:
                break
            }
            progress[message.from] = p
            if updated && maybeCommit() {
                afterCommit()
                guard role == .leader else { return }
            } else if wasPaused {
                sendAppend(to: message.from)
            }
            while sendAppend(to: message.from, sendIfEmpty: false) {}
            if message.from == leadTransferee, progress[message.from]?.match == log.lastIndex {
                sendTimeoutNow(to: message.from)
            }
        } else {
            progress[message.from] = p
        }
    }

    private mutating func handleHeartbeatResponse(_ message: Message) {
        guard var p = progress[message.from] else { return }
        p.recentActive = true
        p.probeSent = false
        switch p.state {
        case .replicate where p.inflights.isFull:
            p.inflights.freeFirst()
        case .snapshot:
            // A follower answers a snapshot at once; an election timeout of heartbeats without
            // that answer means the snapshot (or its answer) was lost: probe again.
            p.heartbeatsWhileSnapshotting += 1
            if p.heartbeatsWhileSnapshotting >= config.electionTicks { p.becomeProbe() }
        default:
            break
        }
        progress[message.from] = p
        if p.match < log.lastIndex {
            sendAppend(to: message.from)
        }
        guard !message.context.isEmpty,
              let acks = readOnly.ack(context: message.context, from: message.from),
              acks.intersection(voters).count >= quorum else { return }
        for request in readOnly.release(through: message.context) {
            answerRead(index: request.index, from: request.from, context: request.context)
        }
    }

    // MARK: - ReadIndex

    /// §8 (dissertation §6.4): remember the commit index, then confirm leadership with a
    /// heartbeat round before answering. A leader that has not yet committed an entry of its
    /// term does not know the latest commit index, so the request waits until it has.
    mutating func handleReadIndex(from requester: NodeID, context: [UInt8]) {
        guard log.term(at: log.committed) == term else {
            readsAwaitingCommit.append((requester, context))
            return
        }
        if voters == [id] {
            answerRead(index: log.committed, from: requester, context: context)
            return
        }
        readOnly.add(index: log.committed, from: requester, context: context,
                     leader: voters.contains(id) ? id : 0)
        broadcastHeartbeat(context: context)
    }

    private mutating func answerRead(index: UInt64, from requester: NodeID, context: [UInt8]) {
        if requester == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            var answer = Message(kind: .readIndexResponse, from: id, to: requester, term: term)
            answer.index = index
            answer.context = context
            send(answer)
        }
    }

    mutating func releaseReadsAwaitingCommit() {
        guard !readsAwaitingCommit.isEmpty, log.term(at: log.committed) == term else { return }
        let waiting = readsAwaitingCommit
        readsAwaitingCommit = []
        for request in waiting {
            handleReadIndex(from: request.from, context: request.context)
        }
    }
}
