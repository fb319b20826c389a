#!/usr/bin/env bash
# `make demo`: the seeds' tutorial, as far as shoal goes today — a three-node
# lab on this machine, each node a shoal daemon with its own network
# namespace and host name, talking over the lab's switch.
set -euo pipefail
: "${SHOAL:?set SHOAL to the shoal binary (make demo does)}"
shoal() { "$SHOAL" "$@"; }

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { say "shoal $*"; shoal "$@"; }

if shoal lab ls | grep -q '^lab-'; then
    say "shoal lab down   # a lab from an earlier demo"
    shoal lab down
fi

run lab up --nodes 3
run lab ls
address_of_lab_1=$(shoal lab ls | awk '$1 == "lab-1" { print $2 }')

# Seed 002, "Setup the Swarm": one manager, two workers.
run -H lab-1 init
token=$(shoal -H lab-1 join-token -q worker)
run -H lab-2 join --token "$token" "$address_of_lab_1:2377"
run -H lab-3 join --token "$token" "$address_of_lab_1:2377"
sleep 1
run -H lab-1 node ls

# Seed 003, "Cluster High Availability": three managers survive losing the leader.
run -H lab-1 node promote lab-2 lab-3
sleep 1
run -H lab-1 node ls
leader_pid=$(shoal lab ls | awk '$1 == "lab-1" { print $3 }')
say "kill -9 $leader_pid   # lab-1's daemon, the leader"
kill -9 "$leader_pid"
started=$(date +%s%N)
until shoal -H lab-2 node ls 2>/dev/null | grep -Eq " lab-[23] +Ready +Active +Leader "; do sleep 0.05; done
echo "A new leader took over $(( ($(date +%s%N) - started) / 1000000 )) ms after the kill."
run -H lab-2 node ls
run lab start lab-1
sleep 2
run -H lab-2 node ls
run -H lab-2 node drain lab-3
run -H lab-2 node ls

cat <<TEXT

The lab stays up: talk to a node with 'shoal -H lab-2 …', run commands inside
one with 'shoal lab exec lab-2 -- …', and remove it all with 'shoal lab down'.
TEXT
