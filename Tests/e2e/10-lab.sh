#!/usr/bin/env bash
# `shoal lab`: three nodes on one machine, each a daemon in its own network
# and UTS namespace, reachable by name — and nothing left behind after `down`.
source "$(dirname "$0")/lib.sh"
use_private_lab_root
on_exit '"$SHOAL" lab down >/dev/null 2>&1'

mounts_before=$(grep -c "$SHOAL_LAB_ROOT" /proc/self/mountinfo || true)
host_links_before=$(ip -o link show | wc -l)

check "lab up starts three nodes" "$SHOAL" lab up --nodes 3

listing=$("$SHOAL" lab ls)
check "lab ls lists three nodes with pids" \
    bash -c '[ "$(printf "%s\n" "$1" | grep -cE "^lab-[123] +[0-9.]+ +[0-9]+ +/")" -eq 3 ]' _ "$listing"
check "lab ls has the NAME ADDRESS PID SOCKET header" \
    bash -c 'printf "%s\n" "$1" | head -1 | grep -Eq "^NAME +ADDRESS +PID +SOCKET"' _ "$listing"

for node in lab-1 lab-2 lab-3; do
    check "$node answers info by name" bash -c '"$SHOAL" -H "$1" info | grep -q "$1"' _ "$node"
done

address_of() { "$SHOAL" lab ls | awk -v n="$1" '$1 == n { print $2 }'; }
check "lab-1 reaches lab-3 over the switch" \
    "$SHOAL" lab exec lab-1 -- ping -c 1 -W 2 "$(address_of lab-3)"
check "a node's hostname is its name" \
    bash -c '[ "$("$SHOAL" lab exec lab-2 -- hostname)" = lab-2 ]'
check "nodes do not see the host's links" \
    bash -c '! "$SHOAL" lab exec lab-1 -- ip -o link show | grep -qv -e " lo:" -e " eth0@"'
check "the host's routes are untouched" \
    bash -c '! ip route | grep -q "$1"' _ "$(address_of lab-1 | cut -d. -f1-3)."

# The tutorials' web app: `shoal whoami` in lab-2, asked from lab-1.
"$SHOAL" lab exec lab-2 -- "$SHOAL" whoami --port 8080 >/dev/null 2>&1 &
whoami_url="http://$(address_of lab-2):8080/"
check "shoal whoami in lab-2 answers lab-1 with its name and the caller's address" eventually 10 bash -c '
    out=$("$SHOAL" lab exec lab-1 -- curl -sf "$1") && grep -q "^Hostname: lab-2$" <<<"$out" &&
    grep -q "^RemoteAddr: $2:" <<<"$out"' _ "$whoami_url" "$(address_of lab-1)"

check_fails "a second lab up with the same name is refused" "already" \
    "$SHOAL" lab up --nodes 3
check_fails "lab exec on an unknown node is refused" "lab-9" \
    "$SHOAL" lab exec lab-9 -- true

pids=$("$SHOAL" lab ls | awk 'NR > 1 { print $3 }')
check "lab down stops the lab" "$SHOAL" lab down
for pid in $pids; do
    check "daemon $pid is gone" eval '! is_running "$pid"'
done
check "no mount of the lab is left" \
    bash -c '[ "$(grep -c "$1" /proc/self/mountinfo || true)" -eq "$2" ]' _ "$SHOAL_LAB_ROOT" "$mounts_before"
check "no file of the lab is left" bash -c '[ ! -e "$1/lab" ]' _ "$SHOAL_LAB_ROOT"
check "no host link was added or left" bash -c '[ "$(ip -o link show | wc -l)" -eq "$1" ]' _ "$host_links_before"
check "no process is left of the lab" no_process_mentions "$SHOAL_LAB_ROOT"
check_fails "lab down on nothing is a clear error" "no lab" "$SHOAL" lab down
