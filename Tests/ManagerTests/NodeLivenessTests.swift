import ClusterStore
import Testing
@testable import Manager

@Suite struct NodeLivenessTests {
    private let start = ContinuousClock.now
    private let period = Duration.seconds(1)

    private func node(_ id: String, _ state: NodeState) -> NodeObject {
        NodeObject(meta: ObjectMeta(id: id), hostname: id, advertiseAddress: "10.0.0.1:2377", role: .worker,
                   state: state, engineVersion: "0.1.0")
    }

    @Test func aNodeSilentForThreePeriodsGoesDownAndComesBackWhenHeard() {
        let liveness = NodeLiveness()
        let nodes = [node("self", .ready), node("w1", .ready)]
        liveness.heard(from: "w1", at: start)
        #expect(liveness.statusChanges(nodes: nodes, selfID: "self", isLeader: true, period: period, now: start).isEmpty)
        #expect(liveness.statusChanges(nodes: nodes, selfID: "self", isLeader: true, period: period,
                                         now: start + .milliseconds(2900)).isEmpty)
        let down = liveness.statusChanges(nodes: nodes, selfID: "self", isLeader: true, period: period,
                                            now: start + .milliseconds(3100))
        #expect(down.map(\.meta.id) == ["w1"])
        #expect(down.first?.state == .down)
        liveness.heard(from: "w1", at: start + .seconds(4))
        let back = liveness.statusChanges(nodes: [node("self", .ready), node("w1", .down)], selfID: "self",
                                            isLeader: true, period: period, now: start + .seconds(4))
        #expect(back.first?.state == .ready)
    }

    @Test func aNewLeaderGivesEveryNodeThreePeriodsBeforeJudging() {
        let liveness = NodeLiveness()
        let nodes = [node("self", .ready), node("w1", .ready)]
        // Never heard from w1, but leadership only began now.
        #expect(liveness.statusChanges(nodes: nodes, selfID: "self", isLeader: true, period: period, now: start).isEmpty)
        #expect(liveness.statusChanges(nodes: nodes, selfID: "self", isLeader: true, period: period,
                                         now: start + .seconds(2)).isEmpty)
    }

    @Test func followersJudgeNobodyAndTheLeaderItselfIsAlwaysReady() {
        let liveness = NodeLiveness()
        #expect(liveness.statusChanges(nodes: [node("w1", .ready)], selfID: "self", isLeader: false,
                                         period: period, now: start + .seconds(60)).isEmpty)
        let changes = liveness.statusChanges(nodes: [node("self", .down)], selfID: "self", isLeader: true,
                                               period: period, now: start)
        #expect(changes.first?.state == .ready)
    }
}
