#!/usr/bin/env bash
# `make demo`: the seeds' tutorials on a three-node lab on this machine, each node a shoal daemon with
# its own network namespace and host name, talking over the lab's switch: a swarm, its managers
# surviving the leader's death, an overlay network, a service published on every node, the swarm's DNS,
# a killed task replaced, a node drained.
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

# Seeds 001 and 002: an overlay network, a service on it published on port 8080 of every node (the routing
# mesh), scaled to three.
run -H lab-2 network create --driver overlay --attachable demo
run -H lab-2 service create --name whoami --replicas 2 --network demo --publish 8080:8080 -- shoal whoami --port 8080
run -H lab-2 service scale whoami=3
run -H lab-2 service ls
# running_whoami — how many whoami tasks run now.
running_whoami() { shoal -H lab-2 service ps --filter desired-state=running --format '{{.CurrentState}}' whoami | grep -c '^Running' || true; }
until [ "$(running_whoami)" = 3 ]; do sleep 0.2; done
run -H lab-2 service ps whoami
for node in lab-1 lab-2 lab-3; do
    address=$(shoal lab ls | awk -v node="$node" '$1 == node { print $2 }')
    say "for i in 1 2 3; do curl -s http://$address:8080 | grep Hostname; done   # $node's address: round robin over the tasks"
    for _ in 1 2 3; do shoal lab exec lab-1 -- curl -s --max-time 3 "http://$address:8080" | grep '^Hostname'; done
done

# Seed 004: the swarm's DNS, from a task on the same network: the service's VIP, then its tasks.
run -H lab-2 service create --name client --network demo -- sleep infinity
client_node=$(shoal -H lab-2 service ps --format '{{.Node}}' client | head -1)
run -H "$client_node" dig --network demo +short whoami
run -H "$client_node" dig --network demo +short tasks.whoami

# A task's process dies: swarm replaces it, and service ps keeps the failed one as history (\_).
victim=$(pgrep -f '^shoal whoami --port 8080' | head -1)
say "kill -9 $victim   # one whoami task's process"
kill -9 "$victim"
sleep 1
until [ "$(running_whoami)" = 3 ]; do sleep 0.2; done
run -H lab-2 service ps whoami

# Draining a node moves its tasks to the others.
run -H lab-2 node drain lab-3
sleep 2
run -H lab-2 node ls
run -H lab-2 service ps whoami

cat <<TEXT

The lab stays up: talk to a node with 'shoal -H lab-2 …', run commands inside
one with 'shoal lab exec lab-2 -- …', and remove it all with 'shoal lab down'.
TEXT
