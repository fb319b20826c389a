#!/usr/bin/env bash
# Seed 003's node commands: drain, pause, activate, update, demote of the
# last manager, rm, leave — each as `node ls` shows it.
source "$(dirname "$0")/lib.sh"

lab_swarm 3
join_workers 2 3

row() { "$SHOAL" -H lab-1 node ls | grep -E " $1 "; }
shows() { row "$1" | grep -Eq "$2"; }

check "node drain echoes the node" bash -c '[ "$("$SHOAL" -H lab-1 node drain lab-2)" = lab-2 ]'
check "lab-2 shows Drain" shows lab-2 "Ready +Drain"
check "node pause" "$SHOAL" -H lab-1 node pause lab-3
check "lab-3 shows Pause" shows lab-3 "Ready +Pause"
check "node activate takes several nodes" bash -c '[ "$("$SHOAL" -H lab-1 node activate lab-2 lab-3 | tr "\n" " ")" = "lab-2 lab-3 " ]'
check "both Active again" bash -c '"$SHOAL" -H lab-1 node ls | grep -E " lab-[23] " | grep -c " Active " | grep -qx 2'
node3=$(row lab-3 | awk '{ print $1 }')
check "node update --availability by id prefix" "$SHOAL" -H lab-1 node update --availability drain "${node3:0:6}"
check "lab-3 shows Drain" shows lab-3 "Ready +Drain"
check_fails "a bad availability is refused" "invalid availability" "$SHOAL" -H lab-1 node update --availability off lab-3
check_fails "an unknown node is refused" "node lab-9 not found" "$SHOAL" -H lab-1 node drain lab-9

check_fails "demoting the last manager is refused" "attempting to demote the last manager of the swarm" \
    "$SHOAL" -H lab-1 node demote lab-1
check "demoting a worker says it is one" bash -c '[ "$("$SHOAL" -H lab-1 node demote lab-2)" = "Node lab-2 is already a worker." ]'
check "lab-1 is still the Leader" shows lab-1 "Ready +Active +Leader"

check_fails "rm of a node that is up is refused" "node lab-2 is not down and can't be removed" "$SHOAL" -H lab-1 node rm lab-2
check_fails "rm of a manager is refused" "must be demoted to worker before removal" "$SHOAL" -H lab-1 node rm lab-1
check "inspect --pretty shows the node" bash -c '"$SHOAL" -H lab-1 node inspect --pretty lab-2 | grep -q "^Hostname:.*lab-2"'
check "inspect self names this node" bash -c '"$SHOAL" -H lab-1 node inspect self | grep -q "\"Hostname\": \"lab-1\""'

check "a worker leaves with docker's text" bash -c '[ "$("$SHOAL" -H lab-3 leave)" = "Node left the swarm." ]'
check "the node it left shows Down" eventually 10 shows lab-3 "Down"
check "rm of the Down node" "$SHOAL" -H lab-1 node rm lab-3
check "lab-3 is gone from node ls" bash -c '! "$SHOAL" -H lab-1 node ls | grep -q " lab-3 "'
check "rm --force removes a node that is up" "$SHOAL" -H lab-1 node rm --force lab-2
check "only lab-1 is left" bash -c '[ "$("$SHOAL" -H lab-1 node ls -q | wc -l)" -eq 1 ]'
check_fails "the manager may not leave without --force" "Use \`--force\` to suppress this message" "$SHOAL" -H lab-1 leave
check "with --force it leaves" "$SHOAL" -H lab-1 leave --force
check_fails "afterwards it is in no swarm" "This node is not a swarm manager" "$SHOAL" -H lab-1 node ls
