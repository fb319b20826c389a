#!/usr/bin/env bash
# Service VIPs and the routing mesh over nftables (issue 14, seed 002): a published port answers on every
# node's address, balanced over the tasks, also on the manager that runs none; mode=host answers only where
# a task runs; a VIP balances over the tasks from a task on a shared network and answers no ping; a killed
# or removed task leaves every table within a second; service rm leaves no rule behind.
source "$(dirname "$0")/lib.sh"

lab_swarm 3 --heartbeat-period 0.5
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'
addresses=$("$SHOAL" lab ls | awk 'NR > 1 { print $2 }')
export addresses

"$SHOAL" -H lab-1 network create -d overlay front >/dev/null
"$SHOAL" -H lab-1 service create --detach --name web --replicas 3 --publish 8080:80 --network front \
    --constraint node.role==worker -- shoal whoami --port 80 >/dev/null
"$SHOAL" -H lab-1 service create --detach --name client --network front --constraint node.hostname==lab-2 \
    -- sleep 3600 >/dev/null
check "web and client run" eventually 30 bash -c '
    "$SHOAL" -H lab-1 service ls | grep -q " 3/3 " && "$SHOAL" -H lab-1 service ls | grep -q " 1/1 "'
check "service ls shows the published port as docker does" bash -c '"$SHOAL" -H lab-1 service ls | grep -q " \*:8080->80/tcp$"'

# hostnames_via FROM URL N — the whoami hostnames of N requests from lab node FROM, sorted and counted.
hostnames_via() {
    for _ in $(seq "$3"); do "$SHOAL" lab exec "$1" -- curl -s --max-time 3 "$2" | awk '/^Hostname:/ { print $2 }'; done | sort | uniq -c
}
export -f hostnames_via
tasks=$("$SHOAL" -H lab-1 service ps web --format json | python3 -c '
import json, sys; print(" ".join(sorted(t["ID"] for t in map(json.loads, sys.stdin) if t["CurrentState"].startswith("Running"))))')
export tasks

check "port 8080 answers on every node, the manager with no task included" bash -c '
    for address in $addresses; do "$SHOAL" lab exec lab-1 -- curl -sf --max-time 3 "http://$address:8080" >/dev/null || exit 1; done'
check "30 requests through one worker reach all 3 tasks" bash -c '
    [ "$(hostnames_via lab-1 "http://$(echo $addresses | cut -d" " -f2):8080" 30 | wc -l)" = 3 ]'
check "and through the manager too" bash -c '[ "$(hostnames_via lab-3 "http://$(echo $addresses | cut -d" " -f1):8080" 30 | wc -l)" = 3 ]'
check "a node reaches its own published port" "$SHOAL" lab exec lab-2 -- curl -sf --max-time 3 "http://$(echo $addresses | cut -d" " -f2):8080"
check "and localhost:8080 answers on every node, as docker's mesh does" bash -c '
    for node in lab-1 lab-2 lab-3; do "$SHOAL" lab exec "$node" -- curl -sf --max-time 3 http://localhost:8080 >/dev/null || exit 1; done'

# web's VIP on front: the first of its networks.
vip=$("$SHOAL" -H lab-1 service inspect web | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["Endpoint"]["VirtualIPs"][0]["Addr"].split("/")[0])')
check "from a task on front, 30 requests to web's VIP reach all 3" bash -c '
    for _ in $(seq 30); do "$SHOAL" -H lab-2 exec client.1 -- curl -s --max-time 3 http://web | awk "/^Hostname:/ { print \$2 }"; done |
        sort -u | wc -l | grep -qx 3'
check "a ping to the VIP gets no answer" bash -c '! "$SHOAL" -H lab-2 exec client.1 -- ping -c 1 -W 1 "$1"' _ "$vip"

# A second service on the same port: docker's refusal.
check_fails "a second service publishing 8080 is refused in docker's words" \
    "port '8080' is already in use by service 'web' \(" \
    "$SHOAL" -H lab-1 service create --detach --name other --publish 8080:80 -- sleep 60
check_fails "ingress with dnsrr is refused" "port published with ingress mode can't be used with dnsrr mode" \
    "$SHOAL" -H lab-1 service create --detach --name rr --endpoint-mode dnsrr --publish 9090:80 -- sleep 60

# 3. Backends follow the store.
victim=$("$SHOAL" -H lab-1 service ps web --format json | python3 -c '
import json, sys; t = [t for t in map(json.loads, sys.stdin) if t["CurrentState"].startswith("Running")][0]; print(t["Name"], t["Node"], t["ID"])')
read -r victim_slot victim_node victim_host <<<"$victim"
"$SHOAL" -H "$victim_node" exec "$victim_slot" -- kill -9 2 || true
sleep 1
check "a killed task gets no request a second later" bash -c '
    ! hostnames_via lab-1 "http://$(echo $addresses | cut -d" " -f2):8080" 20 | grep -qw "$1"' _ "$victim_host"
check "its replacement runs and is reached" eventually 30 bash -c '
    [ "$(hostnames_via lab-1 "http://$(echo $addresses | cut -d" " -f3):8080" 30 | wc -l)" = 3 ]'
"$SHOAL" -H lab-1 service scale web=1 --detach >/dev/null
sleep 1
check "scale to 1: one task answers a second later" bash -c '
    [ "$(hostnames_via lab-1 "http://$(echo $addresses | cut -d" " -f1):8080" 12 | wc -l)" = 1 ]'

"$SHOAL" -H lab-1 service update --detach --publish-add 8081:80 web >/dev/null
check "publish-add: 8081 answers too, on every node" eventually 10 bash -c '
    for address in $addresses; do "$SHOAL" lab exec lab-1 -- curl -sf --max-time 3 "http://$address:8081" >/dev/null || exit 1; done'
check "service ls shows both ports" bash -c '"$SHOAL" -H lab-1 service ls | grep -q "\*:8080->80/tcp, \*:8081->80/tcp"'
"$SHOAL" -H lab-1 service update --detach --publish-rm 8081:80 web >/dev/null
check "publish-rm PUBLISHED:TARGET takes that one port away" eventually 10 bash -c '
    ! "$SHOAL" lab exec lab-1 -- curl -sf --max-time 2 "http://$(echo $addresses | cut -d" " -f2):8081" >/dev/null &&
        "$SHOAL" lab exec lab-1 -- curl -sf --max-time 2 "http://$(echo $addresses | cut -d" " -f2):8080" >/dev/null'
"$SHOAL" -H lab-1 service update --detach --publish-add 8081:80 web >/dev/null
"$SHOAL" -H lab-1 service update --detach --publish-rm 80 web >/dev/null
check "publish-rm by target port: neither answers any more" eventually 10 bash -c '
    for port in 8080 8081; do ! "$SHOAL" lab exec lab-1 -- curl -sf --max-time 2 "http://$(echo $addresses | cut -d" " -f2):$port" >/dev/null || exit 1; done'
"$SHOAL" -H lab-1 service update --detach --publish-add 8080:80 web >/dev/null

# mode=host: only the node running the task answers.
"$SHOAL" -H lab-1 service create --detach --name direct --publish published=8090,target=81,mode=host \
    --constraint node.hostname==lab-3 -- shoal whoami --port 81 >/dev/null
check "mode=host answers on the task's node" eventually 20 \
    "$SHOAL" lab exec lab-1 -- curl -sf --max-time 3 "http://$(echo $addresses | cut -d" " -f3):8090"
check "and nowhere else" bash -c '! "$SHOAL" lab exec lab-1 -- curl -sf --max-time 3 "http://$(echo $addresses | cut -d" " -f2):8090"'
check "and at localhost on that node" "$SHOAL" lab exec lab-3 -- curl -sf --max-time 3 http://localhost:8090
check "as docker's: service ps shows the task's host port, service ls no port" bash -c '
    "$SHOAL" -H lab-1 service ps direct | grep " Running " | grep -q " \*:8090->81/tcp$" &&
        "$SHOAL" -H lab-1 service ls | grep " direct " | grep -vq "8090"'
# A host port is its node's: a second task of the service has nowhere to go.
"$SHOAL" -H lab-1 service scale --detach direct=2 >/dev/null
check "a second task publishing host port 8090 stays pending with docker's reason" eventually 10 bash -c '
    "$SHOAL" -H lab-1 service ps --no-trunc direct | grep " Pending " |
        grep -q "no suitable node (scheduling constraints not satisfied on 2 nodes; host-mode port already in use on 1 node)"'
"$SHOAL" -H lab-1 service scale --detach direct=1 >/dev/null

"$SHOAL" -H lab-1 service rm web direct >/dev/null
check "service rm: the port answers on no node" eventually 5 bash -c '
    for address in $addresses; do ! "$SHOAL" lab exec lab-1 -- curl -sf --max-time 2 "http://$address:8080" >/dev/null || exit 1; done'
check "and no node's nftables hold a rule for it" eventually 5 bash -c '
    for n in 1 2 3; do "$SHOAL" lab exec "lab-$n" -- nft list ruleset | grep -qE "dport (8080|8090)" && exit 1; done; exit 0'
