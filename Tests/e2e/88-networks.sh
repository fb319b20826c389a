#!/usr/bin/env bash
# Overlay networks, the managers' side (issue 12): `network create/ls/inspect/rm` as docker prints
# them, the ingress network init makes, subnets that skip what a node uses, a service's virtual IP
# and its tasks' addresses, and the refusals in docker's words.
source "$(dirname "$0")/lib.sh"

lab_swarm 3 --heartbeat-period 0.5
# lab-3 routes into the default pool's first /24s before it joins: its heartbeats report them.
"$SHOAL" lab exec lab-3 -- ip route add 10.0.1.0/24 dev eth0
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'

# ingress: docker's 10.255.0.0/16 unless this machine's resolver (10.255.255.53 here) or a route sits in it.
ingress=$("$SHOAL" -H lab-1 network inspect ingress)
check "init made the ingress network with VXLAN id 4096" bash -c 'grep -q "\"com.docker.network.driver.overlay.vxlanid_list\": \"4096\"" <<<"$1"' _ "$ingress"
expected_ingress=10.255.0.0/16
grep -q "^nameserver 10\.255\." /etc/resolv.conf && expected_ingress=10.0.0.0/24
check "ingress takes $expected_ingress" bash -c 'grep -q "\"Subnet\": \"$2\"" <<<"$1"' _ "$ingress" "$expected_ingress"

check "network create prints the new network's id" bash -c \
    '"$SHOAL" -H lab-1 network create -d overlay --subnet 172.30.0.0/24 internal | grep -Eq "^[0-9a-z]{25}$"'
check "network ls shows docker's columns" bash -c '"$SHOAL" -H lab-1 network ls | head -1 | grep -Eq "^NETWORK ID +NAME +DRIVER +SCOPE$"'
check "network ls lists internal as an overlay of the swarm" bash -c '"$SHOAL" -H lab-1 network ls | grep -Eq "^[0-9a-z]{12} +internal +overlay +swarm$"'
check "network ls -q prints ids only" bash -c '[ "$("$SHOAL" -H lab-1 network ls -q | grep -cEv "^[0-9a-z]{12}$")" = 0 ]'
internal=$("$SHOAL" -H lab-1 network inspect internal)
check "inspect shows the subnet and its gateway" bash -c 'grep -q "\"Subnet\": \"172.30.0.0/24\"" <<<"$1" && grep -q "\"Gateway\": \"172.30.0.1\"" <<<"$1"' _ "$internal"
check "inspect shows VXLAN id 4097 and the swarm scope" bash -c 'grep -q "vxlanid_list\": \"4097\"" <<<"$1" && grep -q "\"Scope\": \"swarm\"" <<<"$1"' _ "$internal"
check "inspect has no containers yet" bash -c 'grep -q "\"Containers\": null" <<<"$1"' _ "$internal"

# lab-3 reported its route: a pool subnet skips it (and ingress's, when ingress came from the pool).
check "a network without --subnet skips the subnets a node uses" eventually 10 bash -c '
    "$SHOAL" -H lab-1 network rm auto >/dev/null 2>&1
    "$SHOAL" -H lab-1 network create auto >/dev/null &&
    "$SHOAL" -H lab-1 network inspect auto | grep -q "\"Subnet\": \"10.0.2.0/24\""'

before=$("$SHOAL" -H lab-1 network ls)
check_fails "an overlapping --subnet is refused in one line naming what it overlaps" \
    "^shoal: invalid pool request: subnet 172.30.0.128/25 overlaps network internal \(172.30.0.0/24\): choose another --subnet$" \
    "$SHOAL" -H lab-1 network create --subnet 172.30.0.128/25 other
check_fails "a --subnet over a node's route is refused naming the node" "overlaps 10.0.1.0/24 used by node lab-3" \
    "$SHOAL" -H lab-1 network create --subnet 10.0.1.0/25 other
check_fails "a name taken is refused" "network with name internal already exists" "$SHOAL" -H lab-1 network create internal
check_fails "the bridge driver is refused" "driver bridge is not supported" "$SHOAL" -H lab-1 network create -d bridge other
check "nothing was created" bash -c '[ "$("$SHOAL" -H lab-1 network ls)" = "$1" ]' _ "$before"

"$SHOAL" -H lab-1 service create --detach --name web --replicas 2 --network internal \
    --constraint node.role==manager -- sleep 3600 >/dev/null
check "the service gets a virtual IP on internal" eventually 10 bash -c \
    '"$SHOAL" -H lab-1 service inspect web | grep -q "\"Addr\": \"172.30.0.2/24\""'
check "its tasks run" eventually 20 bash -c '[ "$(running_tasks service ps web | wc -l)" = 2 ]'
check "inspect of a task shows its address on internal" bash -c '
    out=$("$SHOAL" -H lab-1 inspect web.1) &&
    grep -q "\"NetworksAttachments\"" <<<"$out" && grep -q "\"Name\": \"internal\"" <<<"$out" &&
    grep -Eq "\"172\.30\.0\.[34]/24\"" <<<"$out"'
check_fails "inspect of no object fails in one line" "no such object: nothing" "$SHOAL" -H lab-1 inspect nothing
check_fails "inspect --type task of no task says so" "no such task: nothing" "$SHOAL" -H lab-1 inspect --type task nothing
internal=$("$SHOAL" -H lab-1 network inspect internal)
check "inspect on the node lists its tasks with their addresses and MACs" bash -c '
    grep -q "\"IPv4Address\": \"172.30.0.3/24\"" <<<"$1" && grep -q "\"IPv4Address\": \"172.30.0.4/24\"" <<<"$1" &&
    grep -q "\"MacAddress\": \"02:42:ac:1e:00:03\"" <<<"$1"' _ "$internal"
check "and the node among its peers" bash -c 'grep -q "\"Name\": \"lab-1\"" <<<"$1"' _ "$internal"
check_fails "network rm of a network in use is refused in docker's words" \
    "^shoal: network internal is in use by service web: remove the service first$" "$SHOAL" -H lab-1 network rm internal
check_fails "ingress cannot be removed" "network ingress is the routing mesh's network" "$SHOAL" -H lab-1 network rm ingress
check_fails "a service cannot name ingress" 'service cannot be explicitly attached to the ingress network "ingress"' \
    "$SHOAL" -H lab-1 service create --detach --name bad --network ingress -- sleep 1
check_fails "nor a network that does not exist" "network nowhere not found" \
    "$SHOAL" -H lab-1 service create --detach --name bad --network nowhere -- sleep 1

check "service update --network-add auto gives a second virtual IP" bash -c '
    "$SHOAL" -H lab-1 service update --detach --network-add auto web >/dev/null &&
    eventually() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
    eventually bash -c "[ \"\$(\"$SHOAL\" -H lab-1 service inspect web | grep -c \"\\\"Addr\\\"\")\" = 2 ]"'
check "service rm, then network rm internal once its tasks stopped" bash -c '
    "$SHOAL" -H lab-1 service rm web >/dev/null &&
    for _ in $(seq 100); do "$SHOAL" -H lab-1 network rm internal auto >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1'
check "network ls shows ingress alone" bash -c '[ "$("$SHOAL" -H lab-1 network ls | tail -n +2 | awk "{print \$2}")" = ingress ]'
