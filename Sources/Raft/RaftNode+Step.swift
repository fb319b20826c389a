extension RaftNode {
    /// Feeds a message from a peer. Messages for another node, from an older term, with
    /// impossible values or otherwise out of place are dropped (or answered so the sender
    /// learns the newer term); nothing a peer sends can make this trap.
    public mutating func step(_ message: Message) {
        guard message.to == id, message.from != 0, message.from != id, isSane(message) else { return }
        if message.term > term {
            guard acceptHigherTerm(message) else { return }
        } else if message.term < term {
            answerStaleTerm(message)
            return
        }

        switch message.kind {
        case .vote, .preVote:
            handleVoteRequest(message)
        default:
            switch role {
            case .leader: stepLeader(message)
            case .candidate, .preCandidate: stepCandidate(message)
            case .follower: stepFollower(message)
            }
        }
    }

    /// Refuses values no honest peer sends, so later arithmetic cannot overflow.
    private func isSane(_ message: Message) -> Bool {
        let limit = Self.sanityLimit
        guard message.term < limit, message.logTerm < limit, message.index < limit,
              message.commit < limit, message.rejectHint < limit else { return false }
        for entry in message.entries where entry.index >= limit || entry.term >= limit { return false }
        if let meta = message.snapshot?.metadata, meta.index >= limit || meta.term >= limit { return false }
        return true
    }

    /// §5.1: a higher term makes us a follower — unless the message is a vote request we
    /// ignore under the leader lease, or a pre-vote exchange, which never changes terms.
    /// Returns whether the message should be processed further.
    private mutating func acceptHigherTerm(_ message: Message) -> Bool {
        switch message.kind {
        case .vote, .preVote:
            let forced = message.kind == .vote && message.context == Self.transferContext
            let inLease = config.checkQuorum && leader != 0 && electionElapsed < config.electionTicks
            if !forced && inLease { return false }
            if message.kind == .preVote { return true }
            becomeFollower(term: message.term, leader: 0)
        case .preVoteResponse where !message.reject:
            // A granted pre-vote carries the term we would campaign in; it changes nothing.
            return true
        case .append, .heartbeat, .installSnapshot:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: 0)
        }
        return true
    }

    /// A message from an older term. A stale leader gets an answer carrying our term so it steps
    /// down (with check-quorum and pre-vote our term may have moved on without it hearing); a
    /// stale pre-candidate gets a rejection so it does not wait forever. Everything else is dropped.
    private mutating func answerStaleTerm(_ message: Message) {
        if (config.checkQuorum || config.preVote) && (message.kind == .heartbeat || message.kind == .append) {
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term))
        } else if message.kind == .preVote {
            var answer = Message(kind: .preVoteResponse, from: id, to: message.from, term: term)
            answer.reject = true
            send(answer)
        }
    }

    /// §5.2, §5.4.1: grant at most one vote per term, and only to a candidate whose log is at
    /// least as up-to-date as ours. Pre-votes are granted without recording anything.
    private mutating func handleVoteRequest(_ message: Message) {
        let isPreVote = message.kind == .preVote
        let canVote = vote == message.from
            || (vote == 0 && leader == 0)
            || (isPreVote && message.term > term)
        let responseKind: Message.Kind = isPreVote ? .preVoteResponse : .voteResponse
        if canVote && log.isUpToDate(lastIndex: message.index, lastTerm: message.logTerm) {
            send(Message(kind: responseKind, from: id, to: message.from, term: message.term))
            if !isPreVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            var answer = Message(kind: responseKind, from: id, to: message.from, term: term)
            answer.reject = true
            send(answer)
        }
    }

    // MARK: - Role changes

    mutating func reset(term newTerm: UInt64) {
        if term != newTerm {
            term = newTerm
            vote = 0
        }
        leader = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        resetRandomizedElectionTimeout()
        leadTransferee = 0
        votes = [:]
        readOnly.reset()
        readsAwaitingCommit = []
        progress = [:]
    }

    mutating func becomeFollower(term newTerm: UInt64, leader newLeader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    mutating func becomePreCandidate() {
        // Like etcd: no term change, no vote; only the role and the election clock move.
        role = .preCandidate
        votes = [:]
        leader = 0
        electionElapsed = 0
        resetRandomizedElectionTimeout()
    }

    mutating func becomeCandidate() {
        reset(term: term + 1)
        role = .candidate
        vote = id
    }

    /// §5.4.2: a new leader commits entries of earlier terms only by committing one of its own,
    /// so it appends an empty entry at once.
    mutating func becomeLeader() {
        reset(term: term)
        role = .leader
        leader = id
        for member in voters.union(learners) {
            progress[member] = newProgress(for: member)
        }
        appendEntries([Entry(term: term, index: 0)])
    }

    func newProgress(for member: NodeID) -> Progress {
        var p = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflightMessages)
        if member == id {
            p.match = log.lastIndex
            p.state = .replicate
        }
        return p
    }

    /// Starts an election (after a pre-vote round if enabled). A transfer skips pre-vote and
    /// marks its requests so followers' leases do not block it.
    mutating func campaign(transfer: Bool) {
        campaign(preVote: config.preVote && !transfer, transfer: transfer)
    }

    /// Runs a pre-vote round (`preVote`) or a real election.
    mutating func campaign(preVote: Bool, transfer: Bool) {
        guard isPromotable, role != .leader else { return }
        let electionTerm: UInt64
        let kind: Message.Kind
        if preVote {
            becomePreCandidate()
            electionTerm = term + 1
            kind = .preVote
        } else {
            becomeCandidate()
            electionTerm = term
            kind = .vote
        }
        if recordVote(from: id, granted: true) == .won {
            if preVote { campaign(preVote: false, transfer: false) } else { becomeLeader() }
            return
        }
        for voter in voters.sorted() where voter != id {
            var request = Message(kind: kind, from: id, to: voter, term: electionTerm)
            request.index = log.lastIndex
            request.logTerm = log.lastTerm
            if transfer { request.context = Self.transferContext }
            send(request)
        }
    }

    enum ElectionResult { case pending, won, lost }

    mutating func recordVote(from voter: NodeID, granted: Bool) -> ElectionResult {
        if votes[voter] == nil && voters.contains(voter) {
            votes[voter] = granted
        }
        let yes = votes.values.filter { $0 }.count
        let no = votes.count - yes
        if yes >= quorum { return .won }
        if no >= quorum { return .lost }
        return .pending
    }

    /// Brings `voters`/`learners` in line with the log after it changed (membership takes effect
    /// when appended). A leader starts or stops tracking progress for added or removed members.
    mutating func syncMembership() {
        let conf = log.conf
        let newVoters = Set(conf.voters)
        let newLearners = Set(conf.learners)
        guard newVoters != voters || newLearners != learners else { return }
        voters = newVoters
        learners = newLearners
        guard role == .leader else { return }
        let members = voters.union(learners)
        for member in members where progress[member] == nil {
            progress[member] = newProgress(for: member)
        }
        for member in progress.keys where !members.contains(member) {
            progress[member] = nil
        }
        if leadTransferee != 0 && !voters.contains(leadTransferee) { leadTransferee = 0 }
    }
}
