#!/usr/bin/env bash
# Health checks (issue 14): docker's --health-* options; a task gets traffic (published port, VIP, DNS) only once
# healthy (a starting one is in no table); a task whose check fails --health-retries times in a row leaves every table within interval × retries,
# fails with docker's "dockerexec: unhealthy container" and is replaced; service ps and inspect say why.
source "$(dirname "$0")/lib.sh"

lab_swarm 3 --heartbeat-period 0.5
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'
addresses=$("$SHOAL" lab ls | awk 'NR > 1 { print $2 }')
export addresses

check_fails "a zero interval is refused by the daemon in one line" "invalid --health-interval 0s: use 1s to" \
    "$SHOAL" -H lab-1 service create --detach --name bad --health-cmd true --health-interval 0s -- sleep 60
check_fails "--no-healthcheck with --health-cmd is refused as docker refuses it" \
    "--no-healthcheck conflicts with --health-\* options" \
    "$SHOAL" -H lab-1 service create --detach --name bad --no-healthcheck --health-cmd true -- sleep 60

"$SHOAL" -H lab-1 network create -d overlay front >/dev/null
# Each task has a /mnt of its own (a tmpfs) holding the file its check looks for (not /tmp: $SHOAL may live there).
"$SHOAL" -H lab-1 service create --detach --name web --replicas 3 --publish 8080:80 --network front \
    --constraint node.role==worker --mount type=tmpfs,target=/mnt \
    --health-cmd 'test -f /mnt/ok' --health-interval 1s --health-retries 2 --health-timeout 2s \
    -- sh -c "touch /mnt/ok && exec $SHOAL whoami --port 80" >/dev/null
"$SHOAL" -H lab-1 service create --detach --name client --network front --constraint node.hostname==lab-2 \
    -- sleep 3600 >/dev/null

# health_of SERVICE — "id12 node slot state health" per task, from service ps --format json (an object per line).
health_of() {
    "$SHOAL" -H lab-1 service ps "$1" --no-trunc --format json | python3 -c '
import json, sys
for t in map(json.loads, sys.stdin):
    print(t["ID"][:12], t["Node"], t["Name"].replace("\\_", "").strip(), t["CurrentState"].split()[0].lower(), t.get("Health", "-"))'
}
export -f health_of
check "the 3 tasks become healthy" eventually 30 bash -c '[ "$(health_of web | grep -c " running healthy$")" = 3 ]'
check "service inspect --pretty shows docker's Healthcheck section" bash -c '
    "$SHOAL" -H lab-1 service inspect --pretty web | grep -A7 "^ Healthcheck:" | grep -q "Test = test -f /mnt/ok"'
check "service inspect carries the check" bash -c '
    "$SHOAL" -H lab-1 service inspect web | python3 -c "
import json, sys; c = json.load(sys.stdin)[0][\"Spec\"][\"TaskTemplate\"][\"ContainerSpec\"][\"Healthcheck\"]
assert c[\"Test\"] == [\"CMD-SHELL\", \"test -f /mnt/ok\"] and c[\"Interval\"] == 10**9 and c[\"Retries\"] == 2, c
assert c[\"Timeout\"] == 2 * 10**9, c"'

# hostnames_via FROM URL N — the whoami hostnames of N requests from lab node FROM, sorted and counted.
hostnames_via() {
    for _ in $(seq "$3"); do "$SHOAL" lab exec "$1" -- curl -s --max-time 3 "$2" | awk '/^Hostname:/ { print $2 }'; done | sort | uniq -c
}
# vip_hostnames N — the whoami hostnames of N requests to web's VIP from the client task.
vip_hostnames() {
    for _ in $(seq "$1"); do "$SHOAL" -H lab-2 exec client.1 -- curl -s --max-time 3 http://web | awk '/^Hostname:/ { print $2 }'; done |
        sort | uniq -c
}
export -f hostnames_via vip_hostnames
port="http://$(echo $addresses | cut -d" " -f1):8080"
export port
check "healthy: 30 requests through the manager's port reach all 3" eventually 10 bash -c '
    [ "$(hostnames_via lab-3 "$port" 30 | wc -l)" = 3 ]'
check "and 30 to the VIP from a task reach all 3" eventually 10 bash -c '[ "$(vip_hostnames 30 | wc -l)" = 3 ]'

# A task whose check has not passed yet takes no traffic; its first success lets it in.
"$SHOAL" -H lab-1 service create --detach --name slow --network front --publish 8082:80 --constraint node.role==worker \
    --mount type=tmpfs,target=/mnt --health-cmd 'test -f /mnt/ready' --health-interval 1s --health-retries 100 \
    -- "$SHOAL" whoami --port 80 >/dev/null
check "a task whose check has not passed yet runs, starting" eventually 30 bash -c 'health_of slow | grep -q " running starting$"'
sleep 2
check "while starting, its published port does not answer" bash -c '! "$SHOAL" lab exec lab-1 -- curl -sf --max-time 2 "${port%:*}:8082"'
check "nor its VIP" bash -c '! "$SHOAL" -H lab-2 exec client.1 -- curl -sf --max-time 2 http://slow'
read -r _ slow_node slow_slot _ <<<"$(health_of slow | grep " running ")"
"$SHOAL" -H "$slow_node" exec "$slow_slot" -- touch /mnt/ready
check "once its check passes, both answer" eventually 10 bash -c '
    "$SHOAL" lab exec lab-1 -- curl -sf --max-time 2 "${port%:*}:8082" >/dev/null &&
        "$SHOAL" -H lab-2 exec client.1 -- curl -sf --max-time 2 http://slow >/dev/null'

read -r victim victim_node victim_slot _ <<<"$(health_of web | grep " running healthy$" | head -1)"
victim_id=$("$SHOAL" -H lab-1 service ps web --no-trunc -q | grep "^$victim")
export victim victim_id
"$SHOAL" -H "$victim_node" exec "$victim_slot" -- rm /mnt/ok
# interval × retries = 2 s of probes (each takes a moment to run), and a second for every node's tables, as a killed task has.
sleep 3.5
check "2 failed checks later the task gets no request through the port" bash -c '
    ! hostnames_via lab-1 "$port" 20 | grep -qw "$victim"'
check "nor through the VIP" bash -c '! vip_hostnames 20 | grep -qw "$victim"'
check "service ps: it failed, unhealthy (its streak and probes in the json), and was replaced" eventually 30 bash -c '
    "$SHOAL" -H lab-1 service ps web --no-trunc --format json | python3 -c "
import json, sys
tasks = [json.loads(line) for line in sys.stdin]
victim = [t for t in tasks if t[\"ID\"] == sys.argv[1]][0]
assert victim[\"CurrentState\"].startswith(\"Failed\") and \"dockerexec: unhealthy container\" in victim[\"Error\"], victim
assert victim.get(\"Health\") == \"unhealthy\", victim
assert victim[\"State\"][\"Health\"][\"FailingStreak\"] >= 2 and victim[\"State\"][\"Health\"][\"Log\"][-1][\"ExitCode\"] == 1, victim
assert len([t for t in tasks if t[\"CurrentState\"].startswith(\"Running\") and t.get(\"Health\") == \"healthy\"]) == 3
" "$victim_id"'
check "inspect says why: State.Health with the failing probes" bash -c '
    "$SHOAL" -H lab-1 inspect "$victim_id" | python3 -c "
import json, sys
task = json.load(sys.stdin)[0]
health = task[\"State\"][\"Health\"]
assert health[\"Status\"] == \"unhealthy\" and health[\"FailingStreak\"] >= 2, health
assert 1 <= len(health[\"Log\"]) <= 5 and health[\"Log\"][-1][\"ExitCode\"] == 1, health
assert \"unhealthy container\" in task[\"Status\"][\"Err\"], task[\"Status\"]
"'
check "the replacement takes traffic: 30 requests reach 3 tasks, none the failed one" eventually 20 bash -c '
    out=$(hostnames_via lab-1 "$port" 30); [ "$(echo "$out" | wc -l)" = 3 ] && ! echo "$out" | grep -qw "$victim"'

"$SHOAL" -H lab-1 service update --detach --no-healthcheck web >/dev/null
check "service update --no-healthcheck removes the check" bash -c '
    "$SHOAL" -H lab-1 service inspect web | python3 -c "
import json, sys; assert \"Healthcheck\" not in json.load(sys.stdin)[0][\"Spec\"][\"TaskTemplate\"][\"ContainerSpec\"]"'
"$SHOAL" -H lab-1 service rm web slow client >/dev/null
