#!/usr/bin/env bash
# `make bench-lb`: HTTP requests per second (wrk, 32 connections) from a client task to the VIP of a
# service with 2 whoami backends on one overlay, with keep-alive and with a new connection per request,
# against, in the same run and from the same namespace: the client talking to one backend directly; a
# VIP built by hand with nftables DNAT (`numgen`, the limit of per-packet NAT); and HAProxy balancing
# the same two backends. Writes the "lb" section of BENCHMARKS.md; the last line is the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/bench-lib.sh"
: "${SHOAL:?set SHOAL to the shoal binary (make bench-lb does)}"
SHOAL=$(readlink -f "$SHOAL")
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-9}
CONNECTIONS=32
# The hand-built VIP: an address of the benchmarking range (RFC 2544), nowhere else in use.
HAND_VIP=198.18.0.10

work=$(mktemp -d)
chmod 755 "$work"
export SHOAL_LAB_ROOT="$work/labs"
haproxy_pid=
cleanup() {
    [ -z "$haproxy_pid" ] || kill "$haproxy_pid" 2>/dev/null || true
    pkill -f "haproxy -db -f $work/haproxy.cfg" 2>/dev/null || true  # nsenter's child, when it forked
    "$SHOAL" lab down --name bench >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$SHOAL" lab up --nodes 1 --name bench >/dev/null
"$SHOAL" -H bench-1 init >/dev/null
"$SHOAL" -H bench-1 network create bench >/dev/null
"$SHOAL" -H bench-1 service create --detach --name web --replicas 2 --network bench -- "$SHOAL" whoami --port 8080 >/dev/null
"$SHOAL" -H bench-1 service create --detach --name client --network bench -- sleep 36001 >/dev/null
until [ "$("$SHOAL" -H bench-1 service ps web | grep -c ' Running ')" = 2 ] \
    && "$SHOAL" -H bench-1 exec client.1 -- true 2>/dev/null; do sleep 0.2; done

vip=$("$SHOAL" -H bench-1 dig --network bench +short web)
read -r backend_a backend_b <<< "$("$SHOAL" -H bench-1 dig --network bench +short tasks.web | sort | xargs)"
# Every peer runs in the client task's network namespace, unconfined, the same way.
client_pid=$(pgrep -f -x 'sleep 36001')
in_client() { nsenter --target "$client_pid" --net "$@"; }
until in_client curl -fs -o /dev/null "http://$backend_a:8080/" && in_client curl -fs -o /dev/null "http://$backend_b:8080/"; do
    sleep 0.2
done

# Thousands of new connections a second would otherwise fill the client's ports with TIME_WAIT and the
# conntrack tables with closed connections within a run, and whoever runs later would measure that: in
# the client's and the backends' namespaces, ports in TIME_WAIT are reused and conntrack forgets closed
# connections at once. The same for every peer.
# TCP timestamps without per-destination offsets (tcp_timestamps=2): the peers reach the same backends by
# different addresses (a VIP, the hand-built VIP, directly), and with reused ports a SYN whose offset was
# drawn for another address meets the backend's TIME_WAIT of the previous connection older-looking: the
# backend drops it (PAWS), the client retries a second later, and a run's new-connection rate collapsed by
# up to 6× (seen as TcpExtPAWSTimewait on the backends, TCPSynRetrans on the client).
for pid in "$client_pid" $(pgrep -f -x "$SHOAL whoami --port 8080"); do
    nsenter --target "$pid" --net sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_timestamps=2 net.ipv4.ip_local_port_range="1024 65000" \
        net.netfilter.nf_conntrack_tcp_timeout_time_wait=1
done

# Its route leaves by the overlay, as a real VIP's (inside the network's subnet) does: replies come back that way.
client_address=$(in_client ip -o -4 addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }')
in_client ip route add "$HAND_VIP/32" dev eth0 src "$client_address"
in_client nft -f - <<EOF
table ip bench_vip {
    chain output {
        type nat hook output priority -100; policy accept;
        ip daddr $HAND_VIP tcp dport 8080 dnat to numgen inc mod 2 map { 0 : $backend_a, 1 : $backend_b }
    }
}
EOF
cat > "$work/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend vip
    bind 127.0.0.1:8081
    default_backend web
backend web
    balance roundrobin
    server a $backend_a:8080
    server b $backend_b:8080
EOF
in_client haproxy -db -f "$work/haproxy.cfg" >/dev/null 2>&1 &
haproxy_pid=$!
until in_client curl -fs -o /dev/null http://127.0.0.1:8081/ && in_client curl -fs -o /dev/null "http://$vip:8080/" \
    && in_client curl -fs -o /dev/null "http://$HAND_VIP:8080/"; do sleep 0.2; done

# rps URL keepalive|newconn — requests per second wrk reached.
rps() {
    local header=()
    [ "$2" = keepalive ] || header=(-H "Connection: close")
    in_client wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" "${header[@]}" "$1" \
        | awk '/^Requests\/sec:/ { print $2 }'
}
declare -A url=([shoal]="http://$vip:8080/" [nat]="http://$HAND_VIP:8080/" [haproxy]="http://127.0.0.1:8081/"
                [direct]="http://$backend_a:8080/")
declare -A rounds  # PEER.MODE → its figures, a word per round, in round order
peers=(shoal nat haproxy direct)
for round in $(seq "$ROUNDS"); do
    # Each round starts with another peer, so none always runs first on a warmer machine.
    for i in 0 1 2 3; do
        peer=${peers[$(( (round + i) % 4 ))]}
        for mode in keepalive newconn; do
            r=$(rps "${url[$peer]}" "$mode")
            rounds[$peer.$mode]="${rounds[$peer.$mode]:-} $r"
            echo "round $round $peer $mode: $r requests/s" >&2
        done
    done
done
declare -A medians
for key in "${!rounds[@]}"; do
    # shellcheck disable=SC2086  # the figures are one word each
    medians[$key]=$(median ${rounds[$key]})
done
vs() { paired_ratio "${rounds[shoal.$2]}" "${rounds[$1.$2]}"; }
a=$(vs nat keepalive) b=$(vs nat newconn) c=$(vs haproxy keepalive) d=$(vs haproxy newconn) e=$(vs direct keepalive)
last="lb keepalive_vs_nat=$a newconn_vs_nat=$b keepalive_vs_haproxy=$c newconn_vs_haproxy=$d keepalive_vs_direct=$e"

body=$(mktemp)
cat > "$body" <<EOF
## Load balancing: a service VIP against NAT by hand, HAProxy and no balancer (\`make bench-lb\`)

wrk $(wrk --version 2>&1 | awk 'NR == 1 { print $2 }'), 2 threads and $CONNECTIONS connections from inside a client task, ${SECONDS_PER_RUN} s per run,
$ROUNDS rounds with the order of peers rotated; the table has each figure's median, the ratios are the medians of
the per-round ratios. The backends are 2 tasks of \`shoal whoami\` on one overlay. The hand-built VIP is
one nftables DNAT rule with \`numgen inc\` in the client's namespace; HAProxy
$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }') runs there too (http mode, round robin). Keep-alive reuses connections; "new" sends
\`Connection: close\`, a TCP connection per request. $(machine_line).

| path | keep-alive requests/s | new connection requests/s |
| --- | ---: | ---: |
| shoal VIP ($("$SHOAL" -H bench-1 info 2>/dev/null | awk '/^Load Balancer:/ { print $NF }' | grep . || echo nftables)) | ${medians[shoal.keepalive]} | ${medians[shoal.newconn]} |
| VIP by hand (nftables DNAT) | ${medians[nat.keepalive]} | ${medians[nat.newconn]} |
| HAProxy | ${medians[haproxy.keepalive]} | ${medians[haproxy.newconn]} |
| one backend directly | ${medians[direct.keepalive]} | ${medians[direct.newconn]} |

\`$last\` (targets: keepalive_vs_nat ≥ 0.95, newconn_vs_nat ≥ 0.95, keepalive_vs_haproxy ≥ 1.3)
EOF
write_section lb "$body"
rm -f "$body"
echo "$last"
