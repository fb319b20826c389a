#!/usr/bin/env bash
# `shoal run` (issue 16, seed 004's `docker run --rm --network dig_default tutum/dnsutils dig +short whoami`):
# a one-off process on the asking node (a worker too) attached to an attachable overlay network, with the
# swarm's DNS; its exit status, -e, --name resolvable from other tasks while it runs; docker's refusal of
# a network not manually attachable; nothing of a one-off left once it ends, a signal's end included.
source "$(dirname "$0")/lib.sh"

lab_swarm 3 --heartbeat-period 0.5
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]' || { fail "3 nodes Ready"; exit 1; }

"$SHOAL" -H lab-1 network create -d overlay --attachable dig_default >/dev/null
"$SHOAL" -H lab-1 network create -d overlay plain >/dev/null
"$SHOAL" -H lab-1 service create --detach --name whoami --replicas 3 --network dig_default \
    -- shoal whoami --port 8080 >/dev/null
"$SHOAL" -H lab-1 service create --detach --name client --network dig_default --constraint node.hostname==lab-1 \
    -- sleep 3600 >/dev/null
check "whoami and client run" eventually 30 bash -c '[ "$(running_tasks service ps whoami | wc -l)" = 3 ] &&
    [ "$(running_tasks service ps client | wc -l)" = 1 ]'
vip=$("$SHOAL" -H lab-1 service inspect whoami | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["Endpoint"]["VirtualIPs"][0]["Addr"].split("/")[0])')
# The tasks and addresses on dig_default of lab-2 and lab-3 (workers) before any one-off: the same after each.
# (Keys come in any order: a line's indentation and trailing comma say nothing.)
endpoints() {
    "$SHOAL" -H "lab-$1" network inspect dig_default | grep -E '"(Name|IPv4Address)": ' | grep -v '"lab-' | sed 's/^ *//; s/,$//' | sort
}
before2=$(endpoints 2)
before3=$(endpoints 3)
# nothing_left — no service but whoami and client, no one-off task or address on the workers' network
# (what differs is printed when it does not hold).
nothing_left() {
    local services now2 now3
    services=$("$SHOAL" -H lab-1 service ls --format '{{.Name}}' | sort | paste -sd,)
    now2=$(endpoints 2)
    now3=$(endpoints 3)
    [ "$services" = client,whoami ] && [ "$now2" = "$before2" ] && [ "$now3" = "$before3" ] && return 0
    printf 'services: %s\nlab-2: %s\n(before: %s)\nlab-3: %s\n(before: %s)\n' "$services" "$now2" "$before2" "$now3" "$before3"
    return 1
}

check "on a worker, shoal run … dig +short whoami prints the VIP" bash -c '
    [ "$("$SHOAL" -H lab-2 run --rm --network dig_default -- shoal dig +short whoami)" = "$1" ]' _ "$vip"
check "and nothing of it is left" eventually 20 nothing_left
check "a service answers by name" bash -c '
    "$SHOAL" -H lab-3 run --rm --network dig_default -- curl -sf --max-time 5 http://whoami:8080 | grep -q "^Hostname: "'
check "on a manager too" bash -c '
    [ "$("$SHOAL" -H lab-1 run --network dig_default -- shoal dig +short whoami)" = "$1" ]' _ "$vip"
check "the exit status is the command's" bash -c '
    "$SHOAL" -H lab-2 run --network dig_default -- sh -c "exit 3"; [ $? = 3 ]'
check "-e K=V reaches the command" bash -c '
    [ "$("$SHOAL" -H lab-2 run -e GREETING=hello --env OTHER=x --network dig_default -- sh -c "echo \$GREETING\$OTHER")" = hellox ]'
check "stdin reaches the command with -i" bash -c '[ "$(echo piped | "$SHOAL" -H lab-3 run -i --network dig_default -- cat)" = piped ]'

# --name: resolvable from another task while the one-off runs, shown as a one-off by service ls and inspect.
"$SHOAL" -H lab-2 run --name probe --network dig_default -- sleep 6 & probe_pid=$!
check "--name probe resolves from a task of the network while it runs" eventually 15 bash -c '
    "$SHOAL" -H lab-1 exec client.1 -- dig +short probe | grep -qE "^[0-9.]+$"'
lab2_id=$("$SHOAL" -H lab-1 node inspect --format '{{.ID}}' lab-2)
check "service ls shows it with its label, service inspect names its node" bash -c '
    [ "$("$SHOAL" -H lab-1 service ls --filter label=shoal.run.node --format "{{.Name}}")" = probe ] &&
    [ "$("$SHOAL" -H lab-1 service inspect --format "{{index .Spec.Labels \"shoal.run.node\"}}" probe)" = "$1" ]' _ "$lab2_id"
check_fails "a name in use is refused" "^shoal: the name probe is already in use by a service" \
    "$SHOAL" -H lab-3 run --name probe --network dig_default -- true
wait "$probe_pid"; probe_status=$?
check "the named one-off ends with its command's status, 0" test "$probe_status" = 0
check "and nothing of it is left" eventually 20 nothing_left

check_fails "a network not manually attachable is refused in docker's words" \
    "^shoal: Could not attach to network plain: rpc error: code = PermissionDenied desc = network plain not manually attachable$" \
    "$SHOAL" -H lab-2 run --rm --network plain -- true
check "shoal run --help is its help, not a command" bash -c '"$SHOAL" run --help | grep -q "^OVERVIEW: Run a one-off command"'
check_fails "no --network: one line" "^shoal: shoal run needs --network NETWORK" "$SHOAL" -H lab-2 run -- true
check_fails "-e without a value is refused" '^shoal: invalid environment variable "K": use -e KEY=VALUE$' \
    "$SHOAL" -H lab-2 run -e K --network dig_default -- true
check "nothing is left of the refused ones" nothing_left

# A signal ends shoal run: the one-off goes too.
"$SHOAL" -H lab-3 run --name victim --network dig_default -- sleep 60 & victim_pid=$!
check "the one-off runs" eventually 15 bash -c '"$SHOAL" -H lab-1 service ls --format "{{.Name}} {{.Replicas}}" | grep -qx "victim 1/1"'
kill -TERM "$victim_pid"
wait "$victim_pid"; victim_status=$?
check "SIGTERM ends shoal run with 143" test "$victim_status" = 143
check "and nothing of it is left" eventually 20 nothing_left
