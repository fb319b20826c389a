#!/usr/bin/env bash
# `node demote`: a manager goes back to being a worker; the leader demoting
# itself hands leadership over first; the last manager cannot be demoted.
source "$(dirname "$0")/lib.sh"

lab_swarm 3
join_workers 2 3
"$SHOAL" -H lab-1 node promote lab-2 lab-3 >/dev/null || fail "promote"

check "demote answers in docker's words" \
    bash -c '[ "$("$SHOAL" -H lab-1 node demote lab-3)" = "Manager lab-3 demoted in the swarm." ]'
check "lab-3 shows no manager status" eventually 10 bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-3 +Ready +Active +[0-9.]+$"'
check "lab-3 is a worker now" eventually 10 bash -c \
    '"$SHOAL" -H lab-3 node ls 2>&1 | grep -q "Worker nodes can.t be used"'
check "the leader demotes itself" \
    bash -c '[ "$("$SHOAL" -H lab-1 node demote lab-1)" = "Manager lab-1 demoted in the swarm." ]'
check "lab-2 took over as Leader, lab-1 is a worker" eventually 10 bash -c '
    out=$("$SHOAL" -H lab-2 node ls) && grep -Eq " lab-2 +Ready +Active +Leader " <<<"$out" &&
    grep -Eq " lab-1 +Ready +Active +[0-9.]+$" <<<"$out"'
check_fails "the last manager cannot be demoted" "attempting to demote the last manager of the swarm" \
    "$SHOAL" -H lab-2 node demote lab-2
check "a demoted node can be promoted again" eventually 10 bash -c \
    '"$SHOAL" -H lab-2 node promote lab-1 >/dev/null && "$SHOAL" -H lab-2 node ls | grep -Eq " lab-1 +Ready +Active +Reachable "'
