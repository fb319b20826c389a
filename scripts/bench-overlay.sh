#!/usr/bin/env bash
# `make bench-overlay`: TCP throughput (iperf3) and the rate of new TCP connections from a task on
# one lab node to a task on another over shoal's overlay, against the same transfer over a VXLAN
# built by hand here with the same settings (a bridge and a VXLAN device in a namespace of their
# own, a veth to the task's namespace, learning off, static FDB and neighbour entries, MTU 1450:
# the kernel's own limit), and against the lab's underlay, in the same run. Writes the "overlay"
# section of BENCHMARKS.md; the last line is the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/bench-lib.sh"
: "${SHOAL:?set SHOAL to the shoal binary (make bench-overlay does)}"
SHOAL=$(readlink -f "$SHOAL")
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-5}

work=$(mktemp -d)
export SHOAL_LAB_ROOT="$work/labs"
# The servers started here outside tasks (a task's die with it): stopped on exit, as namespaces do not end processes.
servers=()
cleanup() {
    for pid in ${servers[@]+"${servers[@]}"}; do kill "$pid" 2>/dev/null || true; done
    for ns in kvx2 kvx3 kt2 kt3; do ip netns del "$ns" 2>/dev/null || true; done
    "$SHOAL" lab down --name bench >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

bench_swarm
underlay2=$("$SHOAL" lab ls | awk '$1 == "bench-2" { print $2 }')
underlay3=$("$SHOAL" lab ls | awk '$1 == "bench-3" { print $2 }')
node_ns() { echo "$SHOAL_LAB_ROOT/bench/nodes/$1/net.ns"; }

# shoal's overlay: a server task on bench-3, a client task on bench-2, both on one network.
"$SHOAL" -H bench-1 network create --subnet 172.30.0.0/24 bench >/dev/null
"$SHOAL" -H bench-1 service create --detach --name server --network bench --constraint node.hostname==bench-3 \
    -- sh -c "iperf3 -s -D; exec '$SHOAL' whoami --port 8080" >/dev/null
"$SHOAL" -H bench-1 service create --detach --name client --network bench --constraint node.hostname==bench-2 \
    -- sleep 36000 >/dev/null
until "$SHOAL" -H bench-3 exec server.1 -- true 2>/dev/null && "$SHOAL" -H bench-2 exec client.1 -- true 2>/dev/null; do sleep 0.2; done
server_ip=$("$SHOAL" -H bench-3 exec server.1 -- ip -o -4 addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }')

# The same topology by hand: per node a namespace with bridge kbr0 and VXLAN kvx0 (VNI 4999, port
# 4790: shoal's device holds 4789), a task namespace with eth0 on the bridge, static entries.
mac_of() { printf '02:42:%02x:%02x:%02x:%02x' ${1//./ }; }
build_kernel_side() {  # NODE_NS VXNS TASKNS LOCAL REMOTE ADDRESS PEER_ADDRESS
    local node=$1 vx=$2 task=$3 local_ip=$4 remote_ip=$5 address=$6 peer=$7
    ip netns add "$vx"; ip netns add "$task"
    nsenter --net="$node" ip link add kvx0 type vxlan id 4999 dstport 4790 local "$local_ip" nolearning proxy
    nsenter --net="$node" ip link set kvx0 netns "$vx"
    ip netns exec "$vx" sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables' 2>/dev/null || true
    ip -n "$vx" link add kbr0 mtu 1450 type bridge
    ip -n "$vx" link set kvx0 mtu 1450 master kbr0 up
    ip -n "$vx" link add kve0 mtu 1450 type veth peer name eth0 netns "$task"
    ip -n "$vx" link set kve0 master kbr0 up
    ip -n "$vx" link set kbr0 up
    ip -n "$task" link set eth0 mtu 1450 address "$(mac_of "$address")" up
    ip -n "$task" link set lo up
    ip -n "$task" addr add "$address/24" dev eth0
    ip netns exec "$vx" bridge fdb add "$(mac_of "$peer")" dev kvx0 dst "$remote_ip" self permanent
    ip -n "$vx" neigh add "$peer" lladdr "$(mac_of "$peer")" dev kvx0 nud permanent
}
build_kernel_side "$(node_ns bench-2)" kvx2 kt2 "${underlay2%%:*}" "${underlay3%%:*}" 192.168.250.2 192.168.250.3
build_kernel_side "$(node_ns bench-3)" kvx3 kt3 "${underlay3%%:*}" "${underlay2%%:*}" 192.168.250.3 192.168.250.2
ip netns exec kt3 iperf3 -s >/dev/null 2>&1 &
servers+=($!)
ip netns exec kt3 "$SHOAL" whoami --port 8080 >/dev/null 2>&1 &
servers+=($!)
# The underlay: a server in bench-3's own namespace.
nsenter --net="$(node_ns bench-3)" iperf3 -s -p 5202 >/dev/null 2>&1 &
servers+=($!)
nsenter --net="$(node_ns bench-3)" "$SHOAL" whoami --port 8081 >/dev/null 2>&1 &
servers+=($!)
sleep 1

throughput() { python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'; }
shoal_mbps=() kernel_mbps=() underlay_mbps=() shoal_cps=() kernel_cps=() underlay_cps=()
# measure PATH — one throughput and one connection-rate figure over PATH (shoal, kernel or underlay).
measure() {
    case $1 in
    shoal)
        shoal_mbps+=("$("$SHOAL" -H bench-2 exec client.1 -- iperf3 -c "$server_ip" -t "$SECONDS_PER_RUN" -J | throughput)")
        shoal_cps+=("$("$SHOAL" -H bench-2 exec client.1 -- python3 "$here/connect-rate.py" "$server_ip" 8080 "$SECONDS_PER_RUN")") ;;
    kernel)
        kernel_mbps+=("$(ip netns exec kt2 iperf3 -c 192.168.250.3 -t "$SECONDS_PER_RUN" -J | throughput)")
        kernel_cps+=("$(ip netns exec kt2 python3 "$here/connect-rate.py" 192.168.250.3 8080 "$SECONDS_PER_RUN")") ;;
    underlay)
        underlay_mbps+=("$(nsenter --net="$(node_ns bench-2)" iperf3 -c "${underlay3%%:*}" -p 5202 -t "$SECONDS_PER_RUN" -J | throughput)")
        underlay_cps+=("$(nsenter --net="$(node_ns bench-2)" python3 "$here/connect-rate.py" "${underlay3%%:*}" 8081 "$SECONDS_PER_RUN")") ;;
    esac
}
# Each round starts with another path, so no path always runs first (or last) on a busy machine.
paths=(shoal kernel underlay)
for round in $(seq "$ROUNDS"); do
    for i in 0 1 2; do measure "${paths[$(( (round + i) % 3 ))]}"; done
done
s_mbps=$(median "${shoal_mbps[@]}") k_mbps=$(median "${kernel_mbps[@]}") u_mbps=$(median "${underlay_mbps[@]}")
s_cps=$(median "${shoal_cps[@]}") k_cps=$(median "${kernel_cps[@]}") u_cps=$(median "${underlay_cps[@]}")
throughput_vs_kernel=$(ratio "$s_mbps" "$k_mbps")
connect_vs_kernel=$(ratio "$s_cps" "$k_cps")
throughput_vs_underlay=$(ratio "$s_mbps" "$u_mbps")

body=$(mktemp)
cat > "$body" <<MD
## Overlay: shoal's VXLAN data path vs the kernel's own

Command: \`make bench-overlay\` (scripts/bench-overlay.sh). Measured $(machine_line).
A task on one lab node to a task on another; the kernel's figures come from the same topology built by hand
in the same run (bridge and VXLAN device in a namespace of their own, veth to the task, learning off, static
FDB and neighbour entries, MTU 1450), the underlay's from the lab nodes' own addresses. Medians of $ROUNDS runs
of $SECONDS_PER_RUN s: iperf3 (one TCP stream) and new TCP connections per second (connect, close).

| path | throughput Mbit/s | connections/s |
|---|---|---|
| shoal overlay | $s_mbps | $s_cps |
| kernel VXLAN by hand | $k_mbps | $k_cps |
| lab underlay | $u_mbps | $u_cps |

Ratios: throughput shoal ÷ kernel $throughput_vs_kernel (target ≥ 0.95), connections shoal ÷ kernel $connect_vs_kernel (target ≥ 0.95), throughput shoal ÷ underlay $throughput_vs_underlay.
MD
write_section overlay "$body"
rm -f "$body"
echo "overlay throughput_vs_kernel=$throughput_vs_kernel connect_vs_kernel=$connect_vs_kernel throughput_vs_underlay=$throughput_vs_underlay"
