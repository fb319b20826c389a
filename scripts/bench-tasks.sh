#!/usr/bin/env bash
# `make bench-tasks`: on a 3-node lab, the median over rounds of the time for `service create
# --replicas 100` to have 100 tasks running and for `scale 100→0` to leave no
# task process, each divided by the floor: starting and stopping 100
# `shoal task-init` processes directly on one node. Writes the "tasks"
# section of BENCHMARKS.md; the last line is the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/bench-lib.sh"
: "${SHOAL:?set SHOAL to the shoal binary (make bench-tasks does)}"
SHOAL=$(readlink -f "$SHOAL")
COUNT=${COUNT:-100}
ROUNDS=${ROUNDS:-5}

work=$(mktemp -d)
export SHOAL_LAB_ROOT="$work/labs"
cleanup() {
    "$SHOAL" lab down --name bench >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

bench_swarm

now() { date +%s%N; }
seconds_since() { python3 -c "print(f'{($(now) - $1) / 1e9:.3f}')"; }
# Prints the time (ns since the epoch) at which no task process is left,
# polling every 2 ms; started before the command it times, so its own start-up
# is not counted.
time_when_no_task_processes() {
    python3 - <<'PY'
import os, time
def left():
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().startswith(b"shoal\0task-init\0"):
                    return True
        except OSError:
            pass
    return False
while left():
    time.sleep(0.002)
print(time.time_ns())
PY
}

floor_starts=() floor_stops=() converges=() teardowns=()
for round in $(seq "$ROUNDS"); do
    read -r floor_start floor_stop < <("$SHOAL" lab exec bench-2 -- python3 "$here/task-init-floor.py" "$SHOAL" "$COUNT")
    floor_starts+=("$floor_start") floor_stops+=("$floor_stop")

    started=$(now)
    "$SHOAL" -H bench-1 service create --detach --replicas "$COUNT" --name "bench$round" -- sleep 100000 >/dev/null
    until "$SHOAL" -H bench-1 service ls | grep -Eq " bench$round +replicated +$COUNT/$COUNT "; do sleep 0.01; done
    converges+=("$(seconds_since "$started")")

    time_when_no_task_processes > "$work/gone" &
    watcher=$!
    sleep 0.5  # the watcher is up and polling
    started=$(now)
    "$SHOAL" -H bench-1 service scale --detach "bench$round=0" >/dev/null
    wait "$watcher"
    teardowns+=("$(python3 -c "print(f'{($(cat "$work/gone") - $started) / 1e9:.3f}')")")
    "$SHOAL" -H bench-1 service rm "bench$round" >/dev/null
done
floor_start=$(median "${floor_starts[@]}") floor_stop=$(median "${floor_stops[@]}")
converge=$(median "${converges[@]}") teardown=$(median "${teardowns[@]}")

converge_ratio=$(ratio "$converge" "$floor_start")
teardown_ratio=$(ratio "$teardown" "$floor_stop")

cat > "$work/section.md" <<MD
## Tasks: converge and teardown of $COUNT replicas

\`make bench-tasks\` — $(machine_line)

On a 3-node lab (heartbeat 1 s), \`shoal service create --replicas $COUNT -- sleep 100000\`
until \`service ls\` shows $COUNT/$COUNT, and \`service scale bench=0\` until no task process
is left, against the floor: $COUNT \`shoal task-init\` processes started one after another
through their namespace handshake (no network) and stopped with SIGTERM, on one node.

Medians of $ROUNDS rounds (each: floor, create, scale to 0, rm); every round's figures are below the table.

| | shoal service | floor (task-init directly) | ratio (target ≤ 2) |
| --- | --- | --- | --- |
| start $COUNT | ${converge} s | ${floor_start} s | $converge_ratio |
| stop $COUNT | ${teardown} s | ${floor_stop} s | $teardown_ratio |

Rounds, in seconds — start: ${converges[*]} (floor ${floor_starts[*]}); stop: ${teardowns[*]} (floor ${floor_stops[*]}).
MD
write_section tasks "$work/section.md"
echo "tasks converge_ratio=$converge_ratio teardown_ratio=$teardown_ratio"
