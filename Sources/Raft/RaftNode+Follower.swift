extension RaftNode {
    mutating func stepFollower(_ message: Message) {
        switch message.kind {
        case .append:
            electionElapsed = 0
            leader = message.from
            handleAppend(message)
        case .heartbeat:
            electionElapsed = 0
            leader = message.from
            handleHeartbeat(message)
        case .installSnapshot:
            electionElapsed = 0
            leader = message.from
            handleSnapshot(message)
        case .timeoutNow:
            // Leadership transfer (§3.10 of the dissertation): campaign at once, past leases.
            campaign(transfer: true)
        case .readIndex:
            // A peer asked us instead of the leader: forward; the leader answers it directly.
            guard leader != 0, !message.context.isEmpty else { return }
            var forwarded = Message(kind: .readIndex, from: message.from, to: leader, term: term)
            forwarded.context = message.context
            send(forwarded)
        case .readIndexResponse:
            guard message.from == leader, !message.context.isEmpty else { return }
            readStates.append(ReadState(index: message.index, context: message.context))
        default:
            break
        }
    }

    /// Candidates and pre-candidates: a leader of this term wins; votes are tallied.
    mutating func stepCandidate(_ message: Message) {
        switch message.kind {
        case .append:
            becomeFollower(term: message.term, leader: message.from)
            handleAppend(message)
        case .heartbeat:
            becomeFollower(term: message.term, leader: message.from)
            handleHeartbeat(message)
        case .installSnapshot:
            becomeFollower(term: message.term, leader: message.from)
            handleSnapshot(message)
        case .preVoteResponse where role == .preCandidate, .voteResponse where role == .candidate:
            // A granted pre-vote must be for the term this round campaigns in (term + 1); an
            // older round's grant says nothing about this one.
            if message.kind == .preVoteResponse && !message.reject && message.term != term + 1 { return }
            switch recordVote(from: message.from, granted: !message.reject) {
            case .won:
                if role == .preCandidate {
                    campaign(preVote: false, transfer: false)
                } else {
                    becomeLeader()
                }
            case .lost:
                becomeFollower(term: term, leader: 0)
            case .pending:
                break
            }
        default:
            break
        }
    }

    /// §5.3: accept entries only if our log contains the entry they follow; otherwise reject
    /// with a hint (our last index at or before it whose term is at most the leader's term
    /// there) so the leader can skip back a whole term per round trip.
    private mutating func handleAppend(_ message: Message) {
        var answer = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if message.index < log.committed {
            // Everything up to our commit index is known to match: acknowledge that much.
            answer.index = log.committed
            send(answer)
            return
        }
        guard entriesAreWellFormed(message) else { return }
        switch log.maybeAppend(index: message.index, logTerm: message.logTerm,
                               commit: message.commit, newEntries: message.entries) {
        case let .appended(lastNew):
            syncMembership()
            answer.index = lastNew
        case .mismatch:
            let hint = log.findConflictByTerm(index: message.index, term: message.logTerm)
            answer.index = message.index
            answer.reject = true
            answer.rejectHint = hint.index
            answer.logTerm = hint.term
        case .conflictsWithCommitted:
            return
        }
        send(answer)
    }

    /// Entries must follow `index` without gaps and never come from a later term than the
    /// sender's, nor an earlier one than the entry they follow.
    private func entriesAreWellFormed(_ message: Message) -> Bool {
        var expected = message.index
        var previousTerm = message.logTerm
        for entry in message.entries {
            expected += 1
            if entry.index != expected || entry.term > message.term || entry.term < previousTerm { return false }
            previousTerm = entry.term
        }
        return true
    }

    private mutating func handleHeartbeat(_ message: Message) {
        log.advanceCommit(to: min(message.commit, log.lastIndex))
        var answer = Message(kind: .heartbeatResponse, from: id, to: message.from, term: term)
        answer.context = message.context
        send(answer)
    }

    /// §7: a snapshot newer than our commit index replaces our log, unless our log already
    /// holds its last entry, in which case we only advance the commit index. Either way we
    /// acknowledge only what we know matches the leader.
    private mutating func handleSnapshot(_ message: Message) {
        guard let snap = message.snapshot else { return }
        let meta = snap.metadata
        var answer = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if meta.index <= log.committed || log.pendingSnapshot != nil {
            answer.index = log.committed
        } else if log.matchTerm(meta.index, meta.term) {
            log.advanceCommit(to: meta.index)
            answer.index = log.committed
        } else {
            log.restore(snap)
            syncMembership()
            answer.index = log.lastIndex
        }
        send(answer)
    }
}
