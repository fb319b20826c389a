#!/usr/bin/env bash
# The embedded DNS server at 127.0.0.11 (issue 13, seeds 001 and 004): inside a task, a service's name
# is its VIP (dnsrr: its tasks), tasks.NAME its running tasks in rotating order, NAME.SLOT one task;
# only the asking task's networks are in scope; other names go to the upstream (a stub on each node's
# loopback, never this machine's resolver); answers follow the store; garbage does not stop it.
source "$(dirname "$0")/lib.sh"

lab_swarm 3 --heartbeat-period 0.5
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'
stub_pids=()
for n in 1 2 3; do
    "$SHOAL" lab exec "lab-$n" -- python3 "$(dirname "$0")/dns-stub.py" 127.0.0.1 5353 & stub_pids+=($!)
done
on_exit 'kill ${stub_pids[@]} 2>/dev/null'

"$SHOAL" -H lab-1 network create -d overlay front >/dev/null
"$SHOAL" -H lab-1 network create -d overlay back >/dev/null
"$SHOAL" -H lab-1 service create --detach --name whoami --replicas 3 --network front \
    -- shoal whoami --port 8080 >/dev/null
"$SHOAL" -H lab-1 service create --detach --name rr --replicas 2 --network front --endpoint-mode dnsrr \
    -- shoal whoami --port 8081 >/dev/null
"$SHOAL" -H lab-1 service create --detach --name client --network front --constraint node.hostname==lab-2 \
    -- sleep 3600 >/dev/null
"$SHOAL" -H lab-1 service create --detach --name db --network back -- sleep 3600 >/dev/null
check "every task runs" eventually 30 bash -c '[ "$("$SHOAL" -H lab-1 service ls | grep -c -E " (3/3|2/2|1/1) ")" = 4 ]'

# ask ARGS… — `dig @127.0.0.11 ARGS…` run inside client.1 (the real dig, from bind9-dnsutils).
ask() { "$SHOAL" -H lab-2 exec client.1 -- dig @127.0.0.11 +tries=1 +time=3 "$@"; }
export -f ask
vip=$("$SHOAL" -H lab-1 service inspect whoami | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["Endpoint"]["VirtualIPs"][0]["Addr"].split("/")[0])')
# The running tasks' addresses on front, from their NetworksAttachments.
task_ips=$(for id in $("$SHOAL" -H lab-1 service ps whoami --no-trunc --format json | python3 -c '
import json, sys; print(" ".join(t["ID"] for t in map(json.loads, sys.stdin) if t["CurrentState"].startswith("Running")))'); do
    "$SHOAL" -H lab-1 inspect "$id" | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["NetworksAttachments"][0]["Addresses"][0].split("/")[0])'
done | tr "\n" " ")

check "whoami is its VIP, as dig sees it from a task" bash -c '[ "$(ask +short whoami)" = "$1" ]' _ "$vip"
check "shoal dig --network front agrees" bash -c '[ "$("$SHOAL" -H lab-2 dig --network front +short whoami)" = "$1" ]' _ "$vip"
check "shoal dig --task asks from inside that task" bash -c '[ "$("$SHOAL" -H lab-2 dig --task client.1 +short whoami)" = "$1" ]' _ "$vip"
check "shoal dig prints dig's layout" bash -c '
    out=$("$SHOAL" -H lab-2 dig --network front whoami)
    grep -q "^;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: " <<<"$out" && grep -q "^;; ANSWER SECTION:" <<<"$out" &&
    grep -qE "^whoami\.[[:space:]]+600[[:space:]]+IN[[:space:]]+A[[:space:]]+$1$" <<<"$out" &&
    grep -q "^;; SERVER: 127.0.0.11#53(127.0.0.11) (UDP)$" <<<"$out"' _ "$vip"
check "tasks.whoami is the three running tasks" bash -c '
    [ "$(ask +short tasks.whoami | sort | xargs)" = "$(xargs -n1 <<<"$1" | sort | xargs)" ] && [ "$(wc -w <<<"$1")" = 3 ]' _ "$task_ips"
check "in rotating order" bash -c '[ "$(ask +short tasks.whoami | head -1)" != "$(ask +short tasks.whoami | head -1)" ]'
check "whoami.2 is one task" bash -c 'out=$(ask +short whoami.2); [ "$(wc -l <<<"$out")" = 1 ] && grep -qw "$out" <<<"$1"' _ "$task_ips"
check "over TCP too" bash -c '[ "$(ask +tcp +short whoami)" = "$1" ]' _ "$vip"
check "AAAA of a known name is NOERROR without records" bash -c '
    out=$(ask AAAA whoami); grep -q "status: NOERROR" <<<"$out" && grep -q "ANSWER: 0," <<<"$out"'
check "the VIP's PTR names the service" bash -c 'ask +short -x "$1" | grep -q "^whoami\.front\.$"' _ "$vip"
check "dnsrr: rr is its two tasks" bash -c '[ "$(ask +short rr | wc -l)" = 2 ]'
check "the task's resolv.conf names 127.0.0.11 with ndots:0" bash -c '
    conf=$("$SHOAL" -H lab-2 exec client.1 -- cat /etc/resolv.conf)
    grep -qx "nameserver 127.0.0.11" <<<"$conf" && grep -qx "options ndots:0" <<<"$conf" && [ "$(grep -c ^nameserver <<<"$conf")" = 1 ]'
check "so dig without @ and glibc agree on the VIP" bash -c '
    [ "$("$SHOAL" -H lab-2 exec client.1 -- dig +short whoami)" = "$1" ] &&
    [ "$("$SHOAL" -H lab-2 exec client.1 -- getent hosts whoami | cut -d" " -f1)" = "$1" ]' _ "$vip"
check "a slot name reaches a task's web server by name" bash -c '
    "$SHOAL" -H lab-2 exec client.1 -- curl -sf --max-time 5 http://whoami.1:8080 | grep -q "^Hostname: "'
check "a dnsrr service's name reaches one of its tasks" bash -c '
    "$SHOAL" -H lab-2 exec client.1 -- curl -sf --max-time 5 http://rr:8081 | grep -q "^Hostname: "'
check "a task's hostname resolves to it, as a container's short id does: from itself" bash -c '
    [ "$("$SHOAL" -H lab-2 exec client.1 -- sh -c "getent hosts \$(hostname)" | cut -d" " -f1)" = \
      "$("$SHOAL" -H lab-2 exec client.1 -- ip -4 -o addr show eth0 | awk "{ split(\$4, a, \"/\"); print a[1] }")" ]'
check "and from another task, where its web server answers by that name" bash -c '
    host=$("$SHOAL" -H lab-1 service ps whoami --format "{{.ID}} {{.Node}}" | awk "NR == 1 { print \$1 }")
    "$SHOAL" -H lab-2 exec client.1 -- curl -sf --max-time 5 "http://$host:8080" | grep -qx "Hostname: $host"'

# 2. Scope and upstream.
check "a service of another network is NXDOMAIN here" bash -c 'ask db | grep -q "status: NXDOMAIN"'
check "an outside name comes from the upstream" bash -c '[ "$(ask +short outside.example)" = 192.0.2.7 ]'
# stub_on N — the pid of the stub serving lab-N's loopback.
stub_on() { for pid in $(pgrep -f "dns-stub.py 127.0.0.1 5353"); do
    [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink "/proc/$("$SHOAL" lab ls | awk -v n="lab-$1" '$1 == n { print $3 }')/ns/net")" ] && echo "$pid"
done; }
kill $(stub_on 2)
sleep 0.2
check "with the upstream stopped: SERVFAIL within 3 s" bash -c '
    start=$(date +%s%N); out=$(ask outside.example); end=$(date +%s%N)
    grep -q "status: SERVFAIL" <<<"$out" && [ $(( (end - start) / 1000000 )) -lt 3000 ]'
"$SHOAL" lab exec lab-2 -- python3 "$(dirname "$0")/dns-stub.py" 127.0.0.1 5353 & stub_pids+=($!)
check "with it back, outside names resolve again" eventually 5 bash -c '[ "$(ask +short outside.example)" = 192.0.2.7 ]'

# 3. Answers follow the store.
"$SHOAL" -H lab-1 service scale whoami=1 --detach >/dev/null
check "scale to 1: tasks.whoami has one address within 1 s" eventually 1 bash -c '[ "$(ask +short tasks.whoami | wc -l)" = 1 ]'
"$SHOAL" -H lab-1 service rm whoami >/dev/null
check "service rm: whoami is NXDOMAIN" eventually 2 bash -c 'ask whoami | grep -q "status: NXDOMAIN"'

# 5. Garbage does not stop it.
check "10,000 malformed packets, then it still answers" bash -c '
    "$SHOAL" -H lab-2 exec client.1 -- python3 -c "
import os, random, socket
random.seed(5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10000):
    s.sendto(os.urandom(random.randint(0, 600)), (\"127.0.0.11\", 53))
" && [ "$(ask +short rr | wc -l)" = 2 ]'
