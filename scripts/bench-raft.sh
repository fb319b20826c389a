#!/usr/bin/env bash
# `make bench-raft`: a 3-member shoal Raft key-value store (three processes,
# real WAL, mutual-TLS transport, loopback) against a 3-member etcd 3.4 with
# its default settings, driven by the same load generator over the same
# HTTP/JSON API: writes/s and latency at 1, 16 and 64 clients with 256-byte
# values, then the time from kill -9 of the leader to the next acknowledged
# write. Writes the "raft" section of BENCHMARKS.md; the last line printed is
#   raft_vs_etcd writes_ratio_c1=X writes_ratio_c64=Y failover_ratio=Z
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/bench-lib.sh"
: "${BENCH:?set BENCH to the shoal-raft-bench binary (make bench-raft does)}"
ETCD=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CLIENT_COUNTS=(1 16 64)

work=$(mktemp -d /var/tmp/shoal-bench-raft.XXXXXX)
pids=()
stop_all() {
    {
        for pid in "${pids[@]}"; do kill -9 "$pid" || true; done
        for pid in "${pids[@]}"; do wait "$pid" || true; done
    } 2>/dev/null
    pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

client_endpoint() { echo "http://127.0.0.1:$((23790 + $1))"; }
endpoints() { echo "$(client_endpoint 1),$(client_endpoint 2),$(client_endpoint 3)"; }

start_shoal() {
    "$BENCH" pki --out "$work/pki" --members 1,2,3
    local members="1=127.0.0.1:23811,2=127.0.0.1:23812,3=127.0.0.1:23813"
    for i in 1 2 3; do
        "$BENCH" serve --id "$i" --members "$members" --client "127.0.0.1:$((23790 + i))" \
            --data-dir "$work/shoal-$i" --pki "$work/pki" 2>"$work/shoal-$i.log" &
        pids+=($!)
    done
}

start_etcd() {
    local cluster="e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803"
    for i in 1 2 3; do
        "$ETCD" --name "e$i" --data-dir "$work/etcd-$i" \
            --listen-client-urls "$(client_endpoint "$i")" --advertise-client-urls "$(client_endpoint "$i")" \
            --listen-peer-urls "http://127.0.0.1:$((23800 + i))" --initial-advertise-peer-urls "http://127.0.0.1:$((23800 + i))" \
            --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token shoal-bench \
            >"$work/etcd-$i.log" 2>&1 &
        pids+=($!)
    done
}

# measure NAME — runs the loads and the failover against the members just started.
measure() {
    local name=$1 clients
    for clients in "${CLIENT_COUNTS[@]}"; do
        "$BENCH" load --endpoints "$(endpoints)" --clients "$clients" --seconds "$SECONDS_PER_RUN" \
            > "$work/$name-c$clients.json"
        echo "$name c=$clients $(cat "$work/$name-c$clients.json")"
    done
    "$BENCH" failover --endpoints "$(endpoints)" --pids "$(IFS=,; echo "${pids[*]}")" > "$work/$name-failover.json"
    echo "$name failover $(cat "$work/$name-failover.json")"
}

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

start_shoal; measure shoal; stop_all
start_etcd; measure etcd; stop_all

{
    echo "## Raft: shoal vs etcd"
    echo
    echo "Command: \`make bench-raft\` (scripts/bench-raft.sh). Measured $(machine_line)."
    echo "Three members each, on loopback, WAL on $(df -T "$work" | awk 'NR == 2 { print $2 }'); shoal's members talk mutual TLS, etcd's plain HTTP."
    echo "256-byte values, ${SECONDS_PER_RUN} s per run, all writes sent to the leader."
    echo
    echo "| clients | shoal writes/s | etcd writes/s | ratio | shoal p50 / p99 ms | etcd p50 / p99 ms |"
    echo "|---|---|---|---|---|---|"
    for c in "${CLIENT_COUNTS[@]}"; do
        s="$work/shoal-c$c.json" e="$work/etcd-c$c.json"
        printf '| %s | %.0f | %.0f | %s | %.2f / %.2f | %.2f / %.2f |\n' "$c" \
            "$(field "$s" writes_per_second)" "$(field "$e" writes_per_second)" \
            "$(ratio "$(field "$s" writes_per_second)" "$(field "$e" writes_per_second)")" \
            "$(field "$s" p50_milliseconds)" "$(field "$s" p99_milliseconds)" \
            "$(field "$e" p50_milliseconds)" "$(field "$e" p99_milliseconds)"
    done
    echo
    echo "Failover (kill -9 of the leader to the first acknowledged write): shoal $(field "$work/shoal-failover.json" failover_ms) ms, etcd $(field "$work/etcd-failover.json" failover_ms) ms."
    echo "shoal's followers see the dead leader's TLS connections close and campaign within one tick (pre-vote still"
    echo "needs a quorum); etcd's wait out their election timeout. Both use a 100 ms heartbeat and a 1 s election timeout."
} > "$work/section.md"
write_section raft "$work/section.md"
cat "$work/section.md"

ws() { field "$work/$1-c$2.json" writes_per_second; }
echo "raft_vs_etcd writes_ratio_c1=$(ratio "$(ws shoal 1)" "$(ws etcd 1)") writes_ratio_c64=$(ratio "$(ws shoal 64)" "$(ws etcd 64)") failover_ratio=$(ratio "$(field "$work/shoal-failover.json" failover_ms)" "$(field "$work/etcd-failover.json" failover_ms)")"
