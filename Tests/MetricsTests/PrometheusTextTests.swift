import Metrics
import Testing

@Suite struct PrometheusTextTests {
    @Test func countersAndGaugesHaveHelpTypeAndOneLinePerLabelSet() {
        let text = PrometheusText.render([
            .gauge("swarm_manager_leader", help: "Whether this manager leads.", 1),
            MetricFamily("swarm_manager_tasks", help: "Tasks by state.", kind: .gauge, samples: [
                Sample(3, labels: [Label("state", "running")]), Sample(0, labels: [Label("state", "failed")]),
            ]),
            .counter("swarm_raft_proposals_total", help: "Proposals.", 12),
        ])
        #expect(text == """
            # HELP swarm_manager_leader Whether this manager leads.
            # TYPE swarm_manager_leader gauge
            swarm_manager_leader 1
            # HELP swarm_manager_tasks Tasks by state.
            # TYPE swarm_manager_tasks gauge
            swarm_manager_tasks{state="running"} 3
            swarm_manager_tasks{state="failed"} 0
            # HELP swarm_raft_proposals_total Proposals.
            # TYPE swarm_raft_proposals_total counter
            swarm_raft_proposals_total 12

            """)
    }

    @Test func labelValuesAndHelpAreEscaped() {
        let text = PrometheusText.render([
            MetricFamily("m", help: "a \\ b\nc", kind: .gauge, samples: [Sample(1, labels: [Label("service", "we\"b\\\n")])]),
        ])
        #expect(text == "# HELP m a \\\\ b\\nc\n# TYPE m gauge\nm{service=\"we\\\"b\\\\\\n\"} 1\n")
    }

    @Test func numbersArePrintedAsPrometheusReadsThem() {
        func line(_ value: Double) -> Substring {
            PrometheusText.render([.gauge("m", help: "h", value)]).split(separator: "\n")[2]
        }
        #expect(line(0) == "m 0")
        #expect(line(1_234_567) == "m 1234567")
        #expect(line(0.25) == "m 0.25")
        #expect(line(-3) == "m -3")
        #expect(line(.infinity) == "m +Inf")
        #expect(line(.nan) == "m NaN")
    }

    @Test func aHistogramHasCumulativeBucketsEndingAtInfThenSumAndCount() {
        var histogram = Histogram(bounds: [0.01, 0.1, 1])
        for value in [0.005, 0.01, 0.05, 2, 0.5] { histogram.observe(value) }
        let text = PrometheusText.render([MetricFamily("swarm_raft_fsync_duration_seconds", help: "Fsync.", histogram: histogram)])
        #expect(text == """
            # HELP swarm_raft_fsync_duration_seconds Fsync.
            # TYPE swarm_raft_fsync_duration_seconds histogram
            swarm_raft_fsync_duration_seconds_bucket{le="0.01"} 2
            swarm_raft_fsync_duration_seconds_bucket{le="0.1"} 3
            swarm_raft_fsync_duration_seconds_bucket{le="1"} 4
            swarm_raft_fsync_duration_seconds_bucket{le="+Inf"} 5
            swarm_raft_fsync_duration_seconds_sum 2.565
            swarm_raft_fsync_duration_seconds_count 5

            """)
    }

    @Test func histogramBoundsAreKeptInOrderWhateverOrderTheyCameIn() {
        var histogram = Histogram(bounds: [1, 0.1])
        histogram.observe(0.5)
        #expect(histogram.bounds == [0.1, 1])
        #expect(histogram.cumulativeBuckets.map(\.count) == [0, 1, 1])
    }
}
