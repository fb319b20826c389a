# Shared helpers for the end-to-end scenarios. A scenario sources this file,
# records each check with `check` (or `pass`/`fail`), and leaves cleanup to
# the traps it registers with `on_exit`.
#
# Environment set by run.sh:
#   SHOAL         the static binary under test
#   DIST          the folder `make dist` fills (binary + sha256sums.txt)
#   E2E_RESULTS   file that collects one "PASS name" / "FAIL name" line per check
#   E2E_WORK      scratch folder for this scenario, removed afterwards

set -u

: "${SHOAL:?SHOAL must name the shoal binary}"
: "${E2E_RESULTS:?run scenarios through Tests/e2e/run.sh}"
: "${E2E_WORK:=$(mktemp -d)}"

scenario=$(basename "$0" .sh)
exit_hooks=()

on_exit() { exit_hooks+=("$*"); }
run_exit_hooks() {
    local i
    for ((i = ${#exit_hooks[@]} - 1; i >= 0; i--)); do eval "${exit_hooks[$i]}" || true; done
}
trap run_exit_hooks EXIT

pass() { echo "PASS $scenario: $1" >> "$E2E_RESULTS"; echo "  ok   $1"; }
fail() {
    echo "FAIL $scenario: $1" >> "$E2E_RESULTS"
    echo "  FAIL $1" >&2
    if [ $# -gt 1 ]; then printf '%s\n' "$2" | sed 's/^/       /' >&2; fi
}

# check NAME CMD... — passes when CMD exits 0; shows its output when it does not.
check() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# check_fails NAME PATTERN CMD... — passes when CMD exits non-zero and its
# stderr is exactly one line matching the extended regex PATTERN.
check_fails() {
    local name=$1 pattern=$2 out rc lines; shift 2
    out=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
    lines=$(printf '%s' "$out" | grep -c '' || true)
    if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && printf '%s' "$out" | grep -Eq -- "$pattern"; then
        pass "$name"
    else
        fail "$name" "exit $rc, stderr ($lines lines): $out"
    fi
}

# eventually SECONDS CMD... — retries CMD every 0.1 s until it succeeds or time runs out.
eventually() {
    local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# A lab root of this scenario's own, so nothing collides with a user's labs.
use_private_lab_root() {
    export SHOAL_LAB_ROOT="$E2E_WORK/labs"
    mkdir -p "$SHOAL_LAB_ROOT"
}

# lab_swarm NODES [INIT_FLAG…] — a lab of this scenario's own with NODES
# nodes, taken down on exit, and a swarm on lab-1 (`init INIT_FLAG…`); sets
# $manager (lab-1's address) and $token (the worker join token). $LAB_UP_FLAGS
# go to `lab up`.
lab_swarm() {
    local nodes=$1; shift
    use_private_lab_root
    on_exit '"$SHOAL" lab down >/dev/null 2>&1'
    # The nodes' DNS forwards to a stub on their own loopback (dns-stub.py, started by the scenarios that
    # need one), never to this machine's resolver.
    # shellcheck disable=SC2086 # the flags are words
    "$SHOAL" lab up --nodes "$nodes" --dns-upstream 127.0.0.1:5353 ${LAB_UP_FLAGS:-} >/dev/null || { fail "lab up"; exit 1; }
    "$SHOAL" -H lab-1 init "$@" >/dev/null || { fail "init"; exit 1; }
    manager=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $2 }')
    token=$("$SHOAL" -H lab-1 join-token -q worker)
}

# join_workers N… — lab-N joins the swarm on lab-1 as a worker, for each N.
join_workers() {
    local n
    for n in "$@"; do "$SHOAL" -H "lab-$n" join --token "$token" "$manager" >/dev/null || fail "lab-$n join"; done
}

# running_tasks service ps|node ps ARGS… — the names of the listed tasks whose current state is Running, asked
# of lab-1 (the DESIRED STATE column says Running from the moment a task is assigned).
running_tasks() {
    "$SHOAL" -H lab-1 "$@" --format '{{.Name}} {{.CurrentState}}' | awk '$2 == "Running" { print $1 }'
}
export -f running_tasks

# is_running PID — the process exists and is not a zombie waiting for its reaper.
is_running() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# no_process_mentions TEXT — no live process has TEXT on its command line
# (this shell and its children excepted).
no_process_mentions() {
    local dir pid
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
        is_running "$pid" || continue
        if tr '\0' ' ' < "$dir/cmdline" 2>/dev/null | grep -qF -- "$1"; then return 1; fi
    done
}
