#!/usr/bin/env bash
# Overlay networks across nodes (issue 12, seed 002): tasks of a service on `internal` reach each
# other by address from node to node over VXLAN, with the overlay's MTU; a task on no shared network
# cannot reach them; a stopped task's entries leave the other nodes at once; nothing is left behind.
source "$(dirname "$0")/lib.sh"

lab_swarm 3 --heartbeat-period 0.5
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'
"$SHOAL" -H lab-1 network create -d overlay --subnet 172.30.0.0/24 internal >/dev/null
"$SHOAL" -H lab-1 service create --detach --name web --replicas 2 --network internal \
    --constraint node.role==worker -- shoal whoami --port 8080 >/dev/null
check "web runs on both workers" eventually 20 bash -c '
    [ "$(running_tasks node ps lab-2 | wc -l)" = 1 ] && [ "$(running_tasks node ps lab-3 | wc -l)" = 1 ]'

# slot_on NODE — the SERVICE.SLOT of web's task on NODE.
slot_on() { running_tasks node ps "$1" | head -1; }
# overlay_address NODE SLOT — the task's address on its first overlay interface.
overlay_address() { "$SHOAL" -H "$1" exec "$2" -- ip -o -4 addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }'; }
on2=$(slot_on lab-2) on3=$(slot_on lab-3)
ip2=$(overlay_address lab-2 "$on2") ip3=$(overlay_address lab-3 "$on3")
check "each task has an address on internal as its eth0" bash -c '[[ $1 == 172.30.0.* && $2 == 172.30.0.* && $1 != "$2" ]]' _ "$ip2" "$ip3"
check "eth0's MAC is derived from its address" bash -c '
    mac=$("$SHOAL" -H lab-2 exec "$1" -- ip -o link show dev eth0 | grep -o "link/ether [0-9a-f:]*")
    [ "$mac" = "link/ether $(printf "02:42:%02x:%02x:%02x:%02x" ${2//./ })" ]' _ "$on2" "$ip2"
check "the gateway bridge is the last interface and keeps the default route" bash -c '
    "$SHOAL" -H lab-2 exec "$1" -- ip route show default | grep -q "dev eth1"' _ "$on2"
check "a task on lab-2 pings the task on lab-3 across the overlay" \
    "$SHOAL" -H lab-2 exec "$on2" -- ping -c 1 -W 2 "$ip3"
check "and reaches its web server" bash -c '
    "$SHOAL" -H lab-2 exec "$1" -- curl -sf --max-time 5 "http://$2:8080" | grep -q "^IP: $2$"' _ "$on2" "$ip3"
# A worker inspects the networks its tasks use, as docker's workers do: its own task, both peers.
check "network inspect on a worker lists its own task and the nodes on the network" bash -c '
    "$SHOAL" -H lab-2 network inspect internal | python3 -c "
import json, sys
[n] = json.load(sys.stdin)
names = [c[\"Name\"] for c in n[\"Containers\"].values()]
assert n[\"Name\"] == \"internal\" and n[\"Scope\"] == \"swarm\" and n[\"IPAM\"][\"Config\"][0][\"Subnet\"] == \"172.30.0.0/24\", n
assert len(names) == 1 and names[0].startswith(sys.argv[1] + \".\"), names
assert sorted(p[\"Name\"] for p in n[\"Peers\"]) == [\"lab-2\", \"lab-3\"], n[\"Peers\"]
assert [c[\"IPv4Address\"] for c in n[\"Containers\"].values()] == [sys.argv[2] + \"/24\"]
" "$1" "$2"' _ "$on2" "$ip2"
check "and a network none of its tasks uses is not known there" bash -c '
    ! out=$("$SHOAL" -H lab-2 network inspect ingress 2>&1) && grep -q "no such network: ingress" <<< "$out"'
check "a 1422-byte packet that must not fragment crosses" "$SHOAL" -H lab-2 exec "$on2" -- ping -c 1 -W 2 -M do -s 1422 "$ip3"
check "a 1423-byte one is refused: the overlay's MTU is 1450" bash -c '! "$SHOAL" -H lab-2 exec "$1" -- ping -c 1 -W 2 -M do -s 1423 "$2"' _ "$on2" "$ip3"

"$SHOAL" -H lab-1 service create --detach --name other --constraint node.hostname==lab-2 -- sleep 3600 >/dev/null
eventually 20 bash -c '[ -n "$(running_tasks service ps other)" ]'
check "a task on no shared network cannot reach internal" bash -c '! "$SHOAL" -H lab-2 exec other.1 -- ping -c 1 -W 1 "$1"' _ "$ip3"
check "nor web's task on its own node through the gateway bridge" bash -c '
    gw=$("$SHOAL" -H lab-2 exec "$1" -- ip -o -4 addr show dev eth1 | awk "{ split(\$4, a, \"/\"); print a[1] }")
    ! "$SHOAL" -H lab-2 exec other.1 -- ping -c 1 -W 1 "$gw"' _ "$on2"

# fdb_has NODE ADDRESS — NODE's internal network has the forwarding entry of the task at ADDRESS.
fdb_has() {
    local pin mac
    pin=$(ls "$SHOAL_LAB_ROOT"/lab/nodes/"$1"/data/networks/1-*.netns 2>/dev/null | head -1)
    [ -n "$pin" ] || return 2
    mac=$(printf "02:42:%02x:%02x:%02x:%02x" ${2//./ })
    nsenter --net="$pin" bridge fdb show dev shvx0 | grep -q "^$mac dst"
}
export -f fdb_has
check "lab-2 has a forwarding entry for lab-3's task" fdb_has lab-2 "$ip3"
check "lab-3 has one for lab-2's task" fdb_has lab-3 "$ip2"

# kill -9 of lab-3's daemon: its tasks die with it; once lab-3 is Down its endpoints leave lab-2,
# and the replacement placed on lab-2 is reachable there. A restarted lab-3 finds its pinned
# network and converges on it: one VXLAN device, nothing doubled.
kill -9 "$("$SHOAL" lab ls | awk '$1 == "lab-3" { print $3 }')"
check "lab-3 goes Down" eventually 10 bash -c '"$SHOAL" -H lab-1 node ls | grep -E " lab-3 " | grep -q " Down "'
check "lab-3's endpoint leaves lab-2's table" eventually 5 bash -c 'fdb_has lab-2 "$1"; [ $? = 1 ]' _ "$ip3"
check "the replacement runs on lab-2 and is reachable on internal" eventually 20 bash -c '
    [ "$(running_tasks node ps lab-2 | grep -c "^web\.")" = 2 ] || exit 1
    for slot in $(running_tasks node ps lab-2 | grep "^web\."); do
        ip=$("$SHOAL" -H lab-2 exec "$slot" -- ip -o -4 addr show dev eth0 | awk "{ split(\$4, a, \"/\"); print a[1] }")
        "$SHOAL" -H lab-2 exec "$1" -- ping -c 1 -W 1 "$ip" || exit 1
    done' _ "$on2"
"$SHOAL" lab start lab-3 >/dev/null
check "lab-3 comes back Ready" eventually 20 bash -c '"$SHOAL" -H lab-1 node ls | grep -E " lab-3 " | grep -q " Ready "'
check "lab-3 keeps at most one namespace per network and one VXLAN device in it" eventually 10 bash -c '
    pins=$(ls "$SHOAL_LAB_ROOT"/lab/nodes/lab-3/data/networks 2>/dev/null | wc -l)
    [ "$pins" -le 1 ] || exit 1
    [ "$pins" = 0 ] && exit 0
    pin=$(ls "$SHOAL_LAB_ROOT"/lab/nodes/lab-3/data/networks/1-*.netns)
    [ "$(nsenter --net="$pin" ip -o link show type vxlan | wc -l)" = 1 ]'

# one_entry_gone — the removed task's entry has left the other worker's table (either way round).
one_entry_gone() { ! fdb_has lab-2 "$ip3" || ! fdb_has lab-3 "$ip2"; }
export -f one_entry_gone
export ip2 ip3
"$SHOAL" -H lab-1 service scale --detach web=1 >/dev/null
check "scale to 1: the removed task's entry leaves the other worker within 1 s" eventually 1 one_entry_gone

# Two networks on one service: eth0 on the first named, eth1 on the second, the gateway bridge last.
"$SHOAL" -H lab-1 network create --subnet 172.29.0.0/24 second >/dev/null
"$SHOAL" -H lab-1 service create --detach --name multi --network internal --network second \
    --constraint node.hostname==lab-2 -- sleep 3600 >/dev/null
check "a task on two networks has eth0 on the first, eth1 on the second, eth2 on the gateway bridge" eventually 20 bash -c '
    addresses=$("$SHOAL" -H lab-2 exec multi.1 -- ip -o -4 addr show)
    grep -q "eth0 *inet 172\.30\.0\." <<<"$addresses" && grep -q "eth1 *inet 172\.29\.0\." <<<"$addresses" &&
    "$SHOAL" -H lab-2 exec multi.1 -- ip route show default | grep -q "dev eth2"'

# A clean stop removes the node's overlay namespaces; the restarted daemon builds them again, once.
kill -TERM "$("$SHOAL" lab ls | awk '$1 == "lab-2" { print $3 }')"
check "a stopped lab-2 leaves no overlay namespace" eventually 20 bash -c '
    [ -z "$(ls "$SHOAL_LAB_ROOT"/lab/nodes/lab-2/data/networks 2>/dev/null)" ]'
"$SHOAL" lab start lab-2 >/dev/null
check "the restarted lab-2 runs multi again with both networks, one VXLAN device each" eventually 40 bash -c '
    "$SHOAL" -H lab-2 exec multi.1 -- ip -o -4 addr show dev eth1 | grep -q "172\.29\.0\." || exit 1
    pins=$(ls "$SHOAL_LAB_ROOT"/lab/nodes/lab-2/data/networks/1-*.netns) || exit 1
    [ "$(wc -w <<<"$pins")" = 2 ] || exit 1
    for pin in $pins; do [ "$(nsenter --net="$pin" ip -o link show type vxlan | wc -l)" = 1 ] || exit 1; done'

"$SHOAL" -H lab-1 service rm web other multi >/dev/null
check "network rm once the tasks stopped" eventually 30 "$SHOAL" -H lab-1 network rm internal second
check "no overlay namespace, bridge or VXLAN device is left on any node" eventually 10 bash -c '
    for n in lab-1 lab-2 lab-3; do
        [ -d "$SHOAL_LAB_ROOT/lab/nodes/$n/data" ] || exit 1
        [ -z "$(ls "$SHOAL_LAB_ROOT/lab/nodes/$n/data/networks" 2>/dev/null)" ] || exit 1
        "$SHOAL" lab exec "$n" -- ip -o link show | grep -q "shvx\|shve" && exit 1
    done; exit 0'
