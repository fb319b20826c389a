#!/usr/bin/env bash
# cgroup limits and reservations, as docker's: nodes report their CPUs and
# memory; a task over --limit-memory is OOM-killed (service ps and inspect say
# so) and replaced; --limit-pids stops a fork loop; a reservation no node
# holds leaves the task pending with docker's reason, and two tasks reserving
# 60% of a node's memory each land on different nodes.
source "$(dirname "$0")/lib.sh"

lab_swarm 2
join_workers 2

# tasks_json SERVICE — its tasks as a JSON array of {id, state, error, node}, from docker's rows (an object per line).
tasks_json() {
    "$SHOAL" -H lab-1 service ps --no-trunc --format json "$1" | python3 -c '
import json, sys
print(json.dumps([{"id": t["ID"], "state": t["CurrentState"].split()[0].lower(), "error": t["Error"].strip("\""), "node": t["Node"]}
                  for t in map(json.loads, sys.stdin)]))'
}
export -f tasks_json

# Every lab node reports this machine's CPUs and memory.
memory=$("$SHOAL" -H lab-1 node inspect self | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Description"]["Resources"]["MemoryBytes"])')
check "node inspect shows the node's resources as docker" bash -c '
    "$SHOAL" -H lab-1 node inspect --pretty self | grep -Eq "^ CPUs:\s+[0-9]+$" &&
    "$SHOAL" -H lab-1 node inspect --pretty self | grep -Eq "^ Memory:\s+[0-9.]+GiB$"'
worker_reports() {
    "$SHOAL" -H lab-1 node inspect "$("$SHOAL" -H lab-2 info --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodeID"])')" |
        python3 -c 'import json,sys; r = json.load(sys.stdin)[0]["Description"]["Resources"]; sys.exit(0 if r["MemoryBytes"] > 0 and r["NanoCPUs"] >= 10**9 else 1)'
}
export -f worker_reports
check "a worker reports its resources too" eventually 10 worker_reports

# --limit-memory 32M: 64 MB of zeros in one line is more than tail may hold.
"$SHOAL" -H lab-1 service create -d --name hog --limit-memory 32M --restart-delay 1s \
    -- sh -c 'head -c 64M /dev/zero | tail' >/dev/null || fail "service create hog"
oom_killed_and_replaced() {
    tasks_json hog | python3 -c '
import json, sys
tasks = json.load(sys.stdin)
killed = [t for t in tasks if t["state"] == "failed" and t["error"] == "task: non-zero exit (137): OOMKilled"]
sys.exit(0 if len(killed) >= 2 else 1)'
}
export -f oom_killed_and_replaced
check "a task over --limit-memory is OOM-killed, replaced, and service ps says why" eventually 60 oom_killed_and_replaced
killed=$(tasks_json hog | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin) if t["state"] == "failed"][0])')
check "inspect says the task was OOMKilled" bash -c '"$SHOAL" -H lab-1 inspect "$1" |
    python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[0][\"Status\"][\"ContainerStatus\"][\"OOMKilled\"] else 1)"' _ "$killed"
check "service inspect --pretty shows the limit as docker" bash -c \
    '"$SHOAL" -H lab-1 service inspect --pretty hog | grep -Pzq "Resources:\n Limits:\n  Memory:\t32MiB"'
"$SHOAL" -H lab-1 service rm hog >/dev/null

# --limit-pids 20: a loop of (at most) 40 forks, each child a 30 s sleep, is stopped.
"$SHOAL" -H lab-1 service create -d --name forks --limit-pids 20 --restart-condition none -- python3 -c '
import os, time
started = 0
for _ in range(40):
    try:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        started += 1
    except OSError:
        print("fork refused after", started, flush=True)
        break
time.sleep(1000)' >/dev/null || fail "service create forks"
fork_refused() { "$SHOAL" -H lab-1 service logs --raw forks | grep -Eq '^fork refused after 1?[0-9]$'; }
export -f fork_refused
check "--limit-pids 20 stops a fork loop below 20 processes" eventually 30 fork_refused
# Its cgroup, as this host mounts cgroups (shoal's rule: a v1 memory controller wins over a unified mount):
# cgroup v2's one directory, whose parents gave it the memory, cpu and pids controllers (their files are
# there), or a directory in each v1 controller's hierarchy. The VM of `make vm-test` runs this on v2.
cgroup_version=2
awk '$(NF - 2) == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { found = 1 } END { exit !found }' /proc/self/mountinfo && cgroup_version=1
# task_cgroups ID… — the directories of these tasks' cgroups, under the lab nodes' parents in every hierarchy.
task_cgroups() {
    local mount id directory
    for mount in $(awk '$(NF - 2) ~ /^cgroup2?$/ { print $5 }' /proc/self/mountinfo); do
        for id in "$@"; do
            for directory in "$mount"/shoal/*/"$id"; do [ -d "$directory" ] && echo "$directory"; done
        done
    done
    return 0
}
# cgroup_holds ID FILE VALUE… — task ID's cgroups are this host's version's (v2: one directory, v1: one in
# each of the memory, cpu and pids hierarchies) and each FILE in one of them holds VALUE.
cgroup_holds() {
    local directories directory held
    mapfile -t directories < <(task_cgroups "$1"); shift
    echo "the task's cgroups: ${directories[*]}"
    [ "${#directories[@]}" = "$([ "$cgroup_version" = 2 ] && echo 1 || echo 3)" ] || return 1
    while [ $# -gt 1 ]; do
        held=
        for directory in "${directories[@]}"; do [ -f "$directory/$1" ] && held=$(cat "$directory/$1"); done
        [ "$held" = "$2" ] || { echo "$1 holds '$held', not '$2'"; return 1; }
        shift 2
    done
}
forks_task=$(tasks_json forks | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin) if t["state"] == "running"))')
if [ "$cgroup_version" = 2 ]; then
    check "its cgroup is cgroup v2's, under the node's parent, with pids.max 20 and the memory and cpu controllers" \
        cgroup_holds "$forks_task" pids.max 20 memory.max max cpu.max "max 100000"
else
    check "its cgroups are cgroup v1's, under the node's parent, with pids.max 20" cgroup_holds "$forks_task" pids.max 20
fi
# service update takes the limits, --read-only, --mount-add/--mount-rm and --user, as docker's.
"$SHOAL" -H lab-1 service update -d --limit-memory 64M --limit-pids 0 --read-only --user 65534:65534 \
    --mount-add type=tmpfs,target=/srv --mount-add type=tmpfs,target=/mnt forks >/dev/null || fail "service update forks"
"$SHOAL" -H lab-1 service update -d --mount-rm /mnt forks >/dev/null || fail "service update --mount-rm"
updated="User:           65534:65534
Read only:      true
Mounts:
 type=tmpfs,target=/srv
Resources:
 Limits:
  Memory:	64MiB"
check "service update changes the limits, --read-only, the mounts and the user" bash -c \
    '[ "$("$SHOAL" -H lab-1 service inspect --pretty forks | sed -n "/^User:/,\$p")" = "$(printf "$1")" ]' _ "$updated"
forks_tasks=$(tasks_json forks | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)))')
"$SHOAL" -H lab-1 service rm forks >/dev/null
no_cgroups() { [ $# -gt 0 ] && [ -z "$(task_cgroups "$@")" ]; }
check "a task's cgroups go with it (the updated one's and the removed one's)" eventually 10 no_cgroups $forks_tasks

# --limit-memory and --limit-cpu in the files of the host's cgroup version.
"$SHOAL" -H lab-1 service create --name capped --limit-memory 64M --limit-cpu 0.5 -- sleep 1000 >/dev/null || fail "service create capped"
capped_task=$(tasks_json capped | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin) if t["state"] == "running"))')
if [ "$cgroup_version" = 2 ]; then
    check "--limit-memory and --limit-cpu set memory.max and cpu.max" cgroup_holds "$capped_task" memory.max 67108864 cpu.max "50000 100000"
else
    check "--limit-memory and --limit-cpu set memory.limit_in_bytes and the CFS quota" \
        cgroup_holds "$capped_task" memory.limit_in_bytes 67108864 cpu.cfs_quota_us 50000 cpu.cfs_period_us 100000
fi
"$SHOAL" -H lab-1 service rm capped >/dev/null

# A reservation larger than any node: pending, with docker's reason.
"$SHOAL" -H lab-1 service create -d --name huge --reserve-memory 1t -- sleep 1000 >/dev/null || fail "service create huge"
pending_for_resources() {
    tasks_json huge | python3 -c '
import json, sys
tasks = json.load(sys.stdin)
sys.exit(0 if tasks and tasks[0]["state"] == "pending" and tasks[0]["error"] == "no suitable node (insufficient resources on 2 nodes)" else 1)'
}
export -f pending_for_resources
check "--reserve-memory larger than any node leaves the task pending with docker's reason" eventually 30 pending_for_resources
"$SHOAL" -H lab-1 service rm huge >/dev/null

# Two tasks reserving 60% of a node's memory each: one per node, and no room for a third.
sixty=$(( memory * 6 / 10 ))
"$SHOAL" -H lab-1 service create -d --name half --replicas 2 --reserve-memory "$sixty" -- sleep 1000 >/dev/null \
    || fail "service create half"
one_per_node() {
    tasks_json half | python3 -c '
import json, sys
running = [t for t in json.load(sys.stdin) if t["state"] == "running"]
sys.exit(0 if len(running) == 2 and len({t["node"] for t in running}) == 2 else 1)'
}
export -f one_per_node
check "two tasks reserving 60% of a node's memory land on different nodes" eventually 30 one_per_node
"$SHOAL" -H lab-1 service scale -d half=3 >/dev/null || fail "service scale half=3"
third_pending() {
    tasks_json half | python3 -c '
import json, sys
pending = [t for t in json.load(sys.stdin) if t["state"] == "pending"]
sys.exit(0 if pending and pending[0]["error"] == "no suitable node (insufficient resources on 2 nodes)" else 1)'
}
export -f third_pending
check "a third finds no node with room" eventually 30 third_pending
"$SHOAL" -H lab-1 service rm half >/dev/null

check_fails "a memory limit below docker's floor is refused in one line" \
    '^shoal: invalid --limit-memory value 1MiB: the minimum memory limit allowed is 6MB$' \
    "$SHOAL" -H lab-1 service create --name bad --limit-memory 1m -- true
check_fails "a CPU value that is not a number is refused in one line" '^shoal: invalid --limit-cpu value half' \
    "$SHOAL" -H lab-1 service create --name bad --limit-cpu half -- true
