#!/usr/bin/env bash
# Scale and its limits (issue 10, item 2): 10 services x 100 replicas (1,000
# tasks on 3 nodes) converge within a measured bound; `--replicas 50000` is
# refused in one line by the manager with nothing written; the cluster still
# takes writes afterwards (scale, service rm of everything).
source "$(dirname "$0")/lib.sh"

# Measured on the 2-core build machine (shared, under load): 1,000 tasks Running 8.5 s after the first
# create; the bound is about 3x that.
converge_bound=${SCALE_CONVERGE_SECONDS:-30}

# A heartbeat a second: a burst of 1,000 task starts on two cores must not stall one past three periods and move its tasks.
lab_swarm 3 --heartbeat-period 1
join_workers 2 3
eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'

# converged COUNT — service ls shows COUNT services, each at 100/100.
converged() { [ "$("$SHOAL" -H lab-1 service ls | grep -Ec " replicated +100/100 +sleep 3600$")" = "$1" ]; }
export -f converged

started=$(date +%s%N)
created=0
for i in $(seq 1 10); do
    "$SHOAL" -H lab-1 service create --detach --replicas 100 --name "s$i" -- sleep 3600 >/dev/null && created=$((created + 1))
done
check "10 services of 100 replicas are created" [ "$created" = 10 ]
if eventually "$converge_bound" converged 10; then
    pass "1,000 tasks on 3 nodes all run within $converge_bound s"
    echo "  1,000 tasks Running $(( ($(date +%s%N) - started) / 1000000 )) ms after the first create"
else
    fail "1,000 tasks on 3 nodes all run within $converge_bound s" "$("$SHOAL" -H lab-1 service ls)"
fi
check "the tasks are spread over the 3 nodes" bash -c '
    for n in lab-1 lab-2 lab-3; do [ "$("$SHOAL" -H lab-1 node ps "$n" | grep -c " Running ")" -ge 300 ] || exit 1; done'

before=$("$SHOAL" -H lab-1 service ls)
check_fails "--replicas 50000 is refused in one line naming the limit" \
    "invalid replicas value 50000: use 0 to 10000, the limit per service" \
    "$SHOAL" -H lab-1 service create --detach --replicas 50000 --name huge -- sleep 3600
check_fails "scaling to 50000 is refused the same way" \
    "invalid replicas value 50000: use 0 to 10000, the limit per service" "$SHOAL" -H lab-1 service scale s1=50000
check_fails "a spec over 64 KiB is refused in one line naming the limit" "over the limit of 65536" \
    "$SHOAL" -H lab-1 service create --detach --name wide --env "PADDING=$(head -c 70000 /dev/zero | tr '\0' x)" -- sleep 3600
check "nothing was written: service ls is unchanged" bash -c '[ "$("$SHOAL" -H lab-1 service ls)" = "$1" ]' _ "$before"

check "the cluster still takes writes: s1 scales to 50" bash -c '"$SHOAL" -H lab-1 service scale s1=50 | grep -q "^s1 scaled to 50$"'
check "and converges to 50/50" eventually 30 bash -c '"$SHOAL" -H lab-1 service ls | grep -Eq " s1 +replicated +50/50 "'
check "service rm removes all ten" "$SHOAL" -H lab-1 service rm s1 s2 s3 s4 s5 s6 s7 s8 s9 s10
check "service ls is empty" bash -c '[ "$("$SHOAL" -H lab-1 service ls | grep -c "")" = 1 ]'
check "every task process is gone" eventually 60 no_process_mentions "task-init"
