#!/usr/bin/env bash
# Seed 002's "Setup the Swarm": one manager and two workers joined with the
# worker token; failure detection (Down, then Ready again); and every way a
# join is refused, with `node ls` unchanged.
source "$(dirname "$0")/lib.sh"
use_private_lab_root
on_exit '"$SHOAL" lab down >/dev/null 2>&1'

"$SHOAL" lab up --nodes 4 >/dev/null || { fail "lab up"; exit 1; }  # lab-4 stays out of the swarm
"$SHOAL" -H lab-1 init --heartbeat-period 0.5 >/dev/null || { fail "init"; exit 1; }
manager=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $2 }')
token=$("$SHOAL" -H lab-1 join-token -q worker)

check "lab-2 joins as a worker with docker's text" \
    bash -c '[ "$("$SHOAL" -H lab-2 join --token "$1" "$2:2377")" = "This node joined a swarm as a worker." ]' _ "$token" "$manager"
check "lab-3 joins with the port left out (as docker types it: swarm join)" \
    bash -c '[ "$("$SHOAL" -H lab-3 swarm join --token "$1" "$2")" = "This node joined a swarm as a worker." ]' _ "$token" "$manager"

three_ready() {
    local listing
    listing=$("$SHOAL" -H lab-1 node ls) || return 1
    grep -Eq "^[0-9a-z]{25} \* +lab-1 +Ready +Active +Leader " <<<"$listing" &&
        grep -Eq "^[0-9a-z]{25} +lab-2 +Ready +Active +[0-9.]+$" <<<"$listing" &&
        grep -Eq "^[0-9a-z]{25} +lab-3 +Ready +Active +[0-9.]+$" <<<"$listing"
}
check "node ls on lab-1 shows three nodes Ready/Active, lab-1 the Leader" eventually 5 three_ready
check_fails "node ls on a worker is refused in docker's words" "^shoal: This node is not a swarm manager\. Worker nodes can't be used" \
    "$SHOAL" -H lab-2 node ls
check_fails "a second join is refused" "already part of a swarm" "$SHOAL" -H lab-2 join --token "$token" "$manager"

# Failure detection (heartbeat every 0.5 s here): a worker whose daemon dies is Down after 3 silent periods, Ready when back.
pid=$("$SHOAL" lab ls | awk '$1 == "lab-3" { print $3 }')
kill -9 "$pid"
started=$(date +%s%N)
check "a killed worker is marked Down" eventually 10 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-3 +Down +Active"'
echo "  lab-3 marked Down $(( ($(date +%s%N) - started) / 1000000 )) ms after kill -9"
"$SHOAL" lab start lab-3 >/dev/null
check "restarted, it rejoins from its data dir without a token and is Ready again" \
    eventually 10 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-3 +Ready +Active"'

before=$("$SHOAL" -H lab-1 node ls -q | sort)
secret=${token##*-}
digest=${token#SWMTKN-1-}; digest=${digest%-*}
wrong="SWMTKN-1-$digest-$(printf '%025d' 7)"
other_cluster="SWMTKN-1-$(printf '%050d' 1)-$secret"
check_fails "a wrong secret is refused" "A valid join token is necessary to join this cluster" \
    "$SHOAL" -H lab-4 join --token "$wrong" "$manager"
check_fails "another cluster's token is refused before the secret is sent" "remote CA does not match fingerprint" \
    "$SHOAL" -H lab-4 join --token "$other_cluster" "$manager"
check_fails "a malformed token is refused" "invalid join token" \
    "$SHOAL" -H lab-4 join --token "SWMTKN-1-nope" "$manager"
"$SHOAL" -H lab-1 join-token --rotate -q worker >/dev/null
check_fails "a rotated-out token is refused" "A valid join token is necessary to join this cluster" \
    "$SHOAL" -H lab-4 join --token "$token" "$manager"
check_fails "an unreachable manager is a clear error" "cannot reach a manager at" \
    "$SHOAL" -H lab-4 join --token "$token" "127.0.0.1:1"
check "node ls is unchanged by the refused joins" \
    bash -c '[ "$("$SHOAL" -H lab-1 node ls -q | sort)" = "$1" ]' _ "$before"
check "the refused node is in no swarm" bash -c '"$SHOAL" -H lab-4 info | grep -q "(not in a swarm)"'
check "info: a worker is active, not a manager; the manager counts 3 nodes" bash -c '
    "$SHOAL" -H lab-2 info | grep -Eq "^Is Manager: +false$" && "$SHOAL" -H lab-1 info | grep -Eq "^Nodes: +3$"'

manager_token=$("$SHOAL" -H lab-1 join-token -q manager)
check "with the manager token lab-4 joins as a manager" \
    bash -c '[ "$("$SHOAL" -H lab-4 join --token "$1" "$2")" = "This node joined a swarm as a manager." ]' _ "$manager_token" "$manager"
check "it catches up and shows Reachable" eventually 20 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-4 +Ready +Active +Reachable "'
check "and answers manager commands itself" eventually 10 bash -c '"$SHOAL" -H lab-4 node ls | grep -Eq " lab-1 +Ready +Active +Leader "'
