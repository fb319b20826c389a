#!/usr/bin/env bash
# `shoal init` on a lab node, as seed 002's "Setup the Swarm" starts: docker's
# text, join tokens, `node ls` with the Leader — and the same after the
# daemon is killed and started again from its data dir.
source "$(dirname "$0")/lib.sh"
use_private_lab_root
on_exit '"$SHOAL" lab down >/dev/null 2>&1'

"$SHOAL" lab up --nodes 2 >/dev/null || { fail "lab up"; exit 1; }

check_fails "node ls outside a swarm says so" '^shoal: This node is not a swarm manager\. Use "shoal init" or "shoal join"' \
    "$SHOAL" -H lab-1 node ls

out=$("$SHOAL" -H lab-1 init 2>&1)
check "init answers with docker's text" bash -c '
    grep -Eq "^Swarm initialized: current node \([0-9a-z]{25}\) is now a manager\.$" <<<"$1" &&
    grep -Eq "^    shoal join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} [0-9.]+:2377$" <<<"$1" &&
    grep -q "^To add a manager to this swarm, run '"'"'shoal join-token manager'"'"' and follow the instructions\.$" <<<"$1"' _ "$out"
node_id=$(sed -n 's/^Swarm initialized: current node (\(.*\)) is now a manager\.$/\1/p' <<<"$out")
address=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $2 }')
check "the join command names lab-1's address" grep -q " $address:2377\$" <<<"$out"

listing=$("$SHOAL" -H lab-1 node ls)
check "node ls has docker's columns" bash -c 'head -1 <<<"$1" | grep -Eq "^ID +HOSTNAME +STATUS +AVAILABILITY +MANAGER STATUS +ENGINE VERSION$"' _ "$listing"
check "node ls shows lab-1 as this node, Ready, Active, Leader" \
    bash -c 'grep -Eq "^$2 \* +lab-1 +Ready +Active +Leader +[0-9.]+$" <<<"$1"' _ "$listing" "$node_id"
check "info shows the node id" bash -c '"$SHOAL" -H lab-1 info | grep -q "$1"' _ "$node_id"
check "and docker's Swarm lines: active, a manager, 1 manager, 1 node" bash -c '
    out=$("$SHOAL" -H lab-1 info); grep -Eq "^Swarm: +active$" <<<"$out" && grep -Eq "^Is Manager: +true$" <<<"$out" &&
        grep -Eq "^Managers: +1$" <<<"$out" && grep -Eq "^Nodes: +1$" <<<"$out"'
check "a node in no swarm says inactive" bash -c '"$SHOAL" -H lab-2 info | grep -Eq "^Swarm: +inactive$"'

worker=$("$SHOAL" -H lab-1 join-token -q worker)
manager=$("$SHOAL" -H lab-1 join-token -q manager)
check "docker's words work too: shoal swarm join-token is join-token" \
    bash -c '[ "$("$SHOAL" -H lab-1 swarm join-token -q worker)" = "$1" ]' _ "$worker"
check "worker and manager tokens share the CA digest, not the secret" \
    bash -c '[ "${1%-*}" = "${2%-*}" ] && [ "$1" != "$2" ]' _ "$worker" "$manager"
check "join-token prints docker's text" bash -c '"$SHOAL" -H lab-1 join-token worker | grep -q "^To add a worker to this swarm, run the following command:$"'
rotated=$("$SHOAL" -H lab-1 join-token --rotate worker)
check "rotation says so and gives a new secret" \
    bash -c 'grep -q "^Successfully rotated worker join token\.$" <<<"$1" && ! grep -q -- "$2" <<<"$1"' _ "$rotated" "$worker"
check_fails "an unknown role is refused" "unknown role boss" "$SHOAL" -H lab-1 join-token boss
check_fails "a heartbeat period out of range is refused" "heartbeat-period" "$SHOAL" -H lab-2 init --heartbeat-period 0
check_fails "a second init is refused" "already part of a swarm" "$SHOAL" -H lab-1 init

pid=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $3 }')
kill -9 "$pid"
check "the killed daemon is gone" eventually 5 bash -c '! kill -0 "$1" 2>/dev/null || grep -q "^State:.*Z" /proc/$1/status' _ "$pid"
check "lab start brings lab-1 back" "$SHOAL" lab start lab-1
check "after the restart lab-1 leads again with its node id, no token needed" \
    eventually 10 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq "^$1 \* +lab-1 +Ready +Active +Leader"' _ "$node_id"
check "the rotated token survived the restart" \
    bash -c '[ "$("$SHOAL" -H lab-1 join-token -q worker)" != "$1" ]' _ "$worker"
check_fails "lab start of a running node is refused" "already running" "$SHOAL" lab start lab-1
