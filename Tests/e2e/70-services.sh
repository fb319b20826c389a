#!/usr/bin/env bash
# Seed 002's "Deploying services", "Scaling Services" and "Service Failover"
# with shoal: a whoami task on a worker answers curl from its node, scales to
# the other worker, is replaced after kill -9 (the old one Failed with exit
# 137), moves off a drained node, survives its node's death within 5 s; a
# global service follows joins and drains; `service rm` and `lab down` leave
# nothing behind; bad input is one line and changes nothing.
source "$(dirname "$0")/lib.sh"

lab_swarm 4 --heartbeat-period 0.5  # lab-4 joins later, for the global service
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'

# tasks SERVICE FIELD... — one line per task: the fields asked for (id, desiredState, state, node, command),
# from docker's objects of `service ps --no-trunc --format json`, one a line.
tasks() {
    "$SHOAL" -H lab-1 service ps "$1" --no-trunc --format json | python3 -c '
import json, sys
for line in sys.stdin:
    task = json.loads(line)
    fields = {"id": task["ID"], "desiredState": task["DesiredState"].lower(), "state": task["CurrentState"].split()[0].lower(),
              "node": task["Node"], "command": task["Command"]}
    print(" ".join(fields[field] for field in sys.argv[1:]))' "${@:2}"
}
running_on() { tasks "$1" desiredState state node | awk '$1 == "running" && $2 == "running" { print $3 }' | sort | tr '\n' ' '; }
export -f tasks running_on is_running

# 1. Create, curl, scale, kill -9.
out=$("$SHOAL" -H lab-1 service create --replicas 1 --name whoami --constraint node.role==worker -- shoal whoami --port 8080)
check "service create prints the id, then converges" \
    bash -c 'grep -Eq "^[0-9a-z]{25}$" <<<"$1" && grep -q "^overall progress: 1 out of 1 tasks$" <<<"$1" && grep -Eq "^verify: Service [0-9a-z]{25} converged$" <<<"$1"' _ "$out"
node=$(running_on whoami | tr -d ' ')
check "the task runs on a worker" bash -c '[ "$1" = lab-2 ] || [ "$1" = lab-3 ]' _ "$node"
check "service ls shows 1/1 and the command" \
    bash -c '"$SHOAL" -H lab-1 service ls | grep -Eq "^[0-9a-z]{12} +whoami +replicated +1/1 +shoal whoami --port 8080$"'
# The task's address on its node's bridge: docker's CLI does not show it, the API's task list does.
socket=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $4 }')
address=$(curl -s -m 10 --unix-socket "$socket" "http://shoal/tasks?service=whoami" | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["address"])')
check "curl to the task's address from its node answers with the task's hostname" \
    bash -c '"$SHOAL" lab exec "$1" -- curl -s -m 5 "http://$2:8080/" | grep -q "^Hostname: [0-9a-z]\{12\}$"' _ "$node" "$address"
check "the task has its own hostname, its short id" \
    bash -c '"$SHOAL" lab exec "$1" -- curl -s -m 5 "http://$2:8080/" | grep -q "^Hostname: $3$"' _ "$node" "$address" "$(tasks whoami id | head -1 | cut -c1-12)"
check "service scale prints docker's text" bash -c '"$SHOAL" -H lab-1 service scale whoami=2 | grep -q "^whoami scaled to 2$"'
check "the second task runs on the other worker" bash -c '[ "$(running_on whoami)" = "lab-2 lab-3 " ]'
check "node ps lists the task on its node" bash -c '"$SHOAL" -H lab-1 node ps lab-2 | grep -Eq "^[0-9a-z]{12} +whoami\.[12] +shoal whoami --port 8080 +lab-2 +Running +Running "'

victim=$(tasks whoami id node | awk '$2 == "lab-2" { print $1 }')
pid=$(pgrep -f "^shoal whoami --port 8080" | while read -r p; do grep -q "$(cut -c1-12 <<<"$victim")" /proc/"$(ps -o ppid= "$p" | tr -d ' ')"/cmdline 2>/dev/null && echo "$p"; done | head -1)
kill -9 "$pid"
check "after kill -9 of the task's process, a new task runs in its slot" \
    eventually 10 bash -c '[ "$(running_on whoami)" = "lab-2 lab-3 " ] && [ "$(tasks whoami id desiredState | grep -c " running$")" = 2 ] && ! tasks whoami id desiredState | grep -q "^$1 running"' _ "$victim"
check "service ps shows the killed task as history: Shutdown, Failed, task: non-zero exit (137)" \
    bash -c '"$SHOAL" -H lab-1 service ps whoami | grep -Eq "^${1:0:12} +\\\\_ whoami\.[12] +shoal whoami --port 8080 +lab-2 +Shutdown +Failed .* ago +\"task: non-zero exit \(137\)\"$"' _ "$victim"

# 2. Drain moves tasks off; activate lets new ones land.
"$SHOAL" -H lab-1 node drain lab-2 >/dev/null
check "node drain lab-2 moves its task to lab-3" eventually 10 bash -c '[ "$(running_on whoami)" = "lab-3 lab-3 " ]'
"$SHOAL" -H lab-1 node activate lab-2 >/dev/null
"$SHOAL" -H lab-1 service scale whoami=4 >/dev/null
check "after node activate lab-2, new tasks land there" bash -c '[ "$(running_on whoami)" = "lab-2 lab-2 lab-3 lab-3 " ]'
"$SHOAL" -H lab-1 service scale whoami=2 >/dev/null

# 3. A node dies: its tasks run elsewhere within 5 s.
"$SHOAL" -H lab-1 service scale whoami=2 >/dev/null
on_lab3=$(tasks whoami desiredState node | grep -c "^running lab-3$")
daemon=$("$SHOAL" lab ls | awk '$1 == "lab-3" { print $3 }')
kill -9 "$daemon"
started=$(date +%s%N)
check "the node's tasks died with its daemon" eventually 3 bash -c '! pgrep -P "$1" >/dev/null' _ "$daemon"
if eventually 5 bash -c '[ "$(running_on whoami)" = "lab-2 lab-2 " ]'; then
    pass "a dead node's tasks ($on_lab3 of them) run on lab-2 within 5 s"
    echo "  tasks running elsewhere $(( ($(date +%s%N) - started) / 1000000 )) ms after kill -9 of lab-3"
else
    fail "a dead node's tasks run on lab-2 within 5 s" "$("$SHOAL" -H lab-1 service ps whoami)"
fi
"$SHOAL" lab start lab-3 >/dev/null
eventually 10 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-3 +Ready "'

# A daemon that stops (SIGTERM) stops its tasks first; started again, the node takes tasks again.
daemon=$("$SHOAL" lab ls | awk '$1 == "lab-2" { print $3 }')
on_lab2=$(tasks whoami id desiredState node | awk '$2 == "running" && $3 == "lab-2" { print substr($1, 1, 12) }' | paste -sd'|')
kill -TERM "$daemon"
check "a daemon stopping with SIGTERM leaves none of its task processes" \
    eventually 15 bash -c '[ -n "$2" ] && ! is_running "$1" && ! pgrep -f "^shoal task-init --hostname ($2) " >/dev/null' _ "$daemon" "$on_lab2"
"$SHOAL" lab start lab-2 >/dev/null
check "restarted, the node is Ready and the service runs its 2 tasks again" \
    eventually 15 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-2 +Ready " && [ "$(tasks whoami desiredState state | grep -c "^running running$")" = 2 ]'

# 4. A global service: one task per active node, following joins and drains.
"$SHOAL" -H lab-1 service create --mode global --name everywhere --detach -- sh -c 'echo "hello from $HOSTNAME"; exec sleep 1000' >/dev/null
check "a global service runs one task on each of the 3 nodes" eventually 10 bash -c '[ "$(running_on everywhere)" = "lab-1 lab-2 lab-3 " ]'
check "service ls counts a global service's running/eligible" \
    bash -c '"$SHOAL" -H lab-1 service ls | grep -Eq " everywhere +global +3/3 +sh -c "'
"$SHOAL" -H lab-4 join --token "$token" "$manager" >/dev/null
check "a node that joins gets the global task" eventually 10 bash -c '[ "$(running_on everywhere)" = "lab-1 lab-2 lab-3 lab-4 " ]'
"$SHOAL" -H lab-1 node drain lab-4 >/dev/null
check "a drained node loses it" eventually 10 bash -c '[ "$(running_on everywhere)" = "lab-1 lab-2 lab-3 " ]'
check "service logs prefixes each line with the task and its node" \
    eventually 5 bash -c '[ "$("$SHOAL" -H lab-1 service logs everywhere | grep -Ec "^everywhere\.[0-9a-z]{25}\.[0-9a-z]{12}@lab-[123] +\| hello from [0-9a-z]{12}$")" = 3 ]'
check "service logs -f follows the output" \
    bash -c '[ "$(timeout 3 "$SHOAL" -H lab-1 service logs -f everywhere | grep -Ec "@lab-[123] +\| hello from ")" = 3 ]'
check "service inspect --pretty reads as docker's" \
    bash -c '"$SHOAL" -H lab-1 service inspect --pretty whoami | grep -Eq "^Service Mode: +Replicated$" &&
             "$SHOAL" -H lab-1 service inspect --pretty whoami | grep -Eq "^ Constraints: +\[node\.role==worker\]$"'
check "service update replaces the tasks with the new command" \
    bash -c '"$SHOAL" -H lab-1 service update everywhere -- sh -c "echo updated; exec sleep 1000" >/dev/null &&
             [ "$(tasks everywhere desiredState state command | grep -c "^running running .*updated")" = 3 ]'

# Outbound: a task reaches another node, and arrives there with its own node's address (masquerade).
lab2=$("$SHOAL" lab ls | awk '$1 == "lab-2" { print $2 }')
lab3=$("$SHOAL" lab ls | awk '$1 == "lab-3" { print $2 }')
"$SHOAL" lab exec lab-3 -- "$SHOAL" whoami --port 9999 >/dev/null 2>&1 &
listener=$!
on_exit "kill $listener 2>/dev/null"
"$SHOAL" -H lab-1 service create --name outbound --constraint node.hostname==lab-2 --restart-condition none --detach \
    -- sh -c "until curl -s -m 2 http://$lab3:9999/; do sleep 0.2; done; exec sleep 1000" >/dev/null
check "a task's traffic to another node leaves masqueraded as its node's address" \
    eventually 15 bash -c '"$SHOAL" -H lab-1 service logs --raw outbound | grep -q "^RemoteAddr: $1:"' _ "$lab2"
"$SHOAL" -H lab-1 service rm outbound >/dev/null
kill "$listener" 2>/dev/null

# 6. Bad input: one line, no change.
before=$("$SHOAL" -H lab-1 service ls)
check_fails "a malformed constraint is refused with the reason" 'invalid constraint "node\.rol==worker"' \
    "$SHOAL" -H lab-1 service create --name bad --constraint node.rol==worker -- sleep 1
check_fails "a service without a command is refused" "has no command" "$SHOAL" -H lab-1 service create --name bad
check_fails "an unknown service is refused" "no such service: nope" "$SHOAL" -H lab-1 service ps nope
check_fails "scale with a bad number is refused" "invalid replicas value x" "$SHOAL" -H lab-1 service scale whoami=x
check_fails "a service no node can run does not converge, in docker's words" \
    "cannot converge: stuck\.1: no suitable node \(1 node not available for new tasks; scheduling constraints not satisfied on 3 nodes\)" \
    "$SHOAL" -H lab-1 service create --name stuck --constraint node.labels.zone==mars -- sleep 1
"$SHOAL" -H lab-1 service rm stuck >/dev/null
check_fails "service logs --tail=-1 is refused in one line" "invalid --tail value -1" \
    "$SHOAL" -H lab-1 service logs --tail=-1 whoami
check "the daemons of the nodes running its tasks still run" \
    bash -c 'for n in lab-1 lab-2 lab-3; do "$SHOAL" -H "$n" info >/dev/null || exit 1; done'
check "service logs --tail=1 still answers" bash -c '"$SHOAL" -H lab-1 service logs --tail=1 whoami >/dev/null'
check_fails "service ps '&=' is a not-found error, and no crash" "no such service: &=$" "$SHOAL" -H lab-1 service ps '&='
check_fails "service ps 'x&node=y' is one service name, not a filter" "no such service: x&node=y$" \
    "$SHOAL" -H lab-1 service ps 'x&node=y'
check_fails "service ps 'a b' answers instead of hanging" "no such service: a b$" timeout 20 "$SHOAL" -H lab-1 service ps 'a b'
check "the manager's daemon still runs" "$SHOAL" -H lab-1 info
check "service ls is unchanged by the refused commands" bash -c '[ "$("$SHOAL" -H lab-1 service ls)" = "$1" ]' _ "$before"

# 5. service rm leaves nothing behind.
"$SHOAL" -H lab-1 service rm whoami everywhere >/dev/null
check "service rm stops every task process" eventually 15 no_process_mentions "task-init"
links_left() {
    local n
    for n in 1 2 3 4; do "$SHOAL" lab exec "lab-$n" -- cat /proc/net/dev | grep -q "veth" && return 1; done
    return 0
}
check "no task link is left on any node" eventually 10 links_left
logs_left() {
    local n
    for n in 1 2 3 4; do
        [ -z "$(ls "$SHOAL_LAB_ROOT"/*/nodes/lab-$n/data/tasks 2>/dev/null)" ] || return 1
        ls -l /proc/"$("$SHOAL" lab ls | awk -v n="lab-$n" '$1 == n { print $3 }')"/fd 2>/dev/null | grep -q "output.log" && return 1
    done
    return 0
}
check "no task log file or handle is left on any node" eventually 10 logs_left
check "service ls is empty" bash -c '[ "$("$SHOAL" -H lab-1 service ls | wc -l)" = 1 ]'
"$SHOAL" lab down >/dev/null
check "lab down leaves no shoal process behind" no_process_mentions "$SHOAL_LAB_ROOT"
