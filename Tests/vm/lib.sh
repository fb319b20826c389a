# Helpers of the guest scenarios (sh inside the VM of scripts/vm-test.sh): `check` records
# one PASS or FAIL line per check, `finish` exits non-zero when any failed.
failures=0

# check NAME CMD... — passes when CMD exits 0; shows the end of its output when it does not.
check() {
    name=$1; shift
    if "$@" > /tmp/check.out 2>&1; then
        echo "  PASS $name"
    else
        echo "  FAIL $name"
        tail -n 20 /tmp/check.out | sed 's/^/       /'
        failures=$((failures + 1))
    fi
}

# eventually SECONDS CMD... — retries CMD every 0.2 s until it succeeds or time runs out.
eventually() {
    deadline=$(( $(date +%s) + $1 )); shift
    until "$@" > /dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# finish — the scenario's result: how many checks failed, and the exit status; after a failure,
# the end of every lab node's daemon log.
finish() {
    if [ "$failures" -gt 0 ]; then
        for log in /var/lib/shoal-lab/*/nodes/*/data/daemon.log /var/lib/shoal-lab/*/nodes/*/data/tasks/*/output.log; do
            [ -f "$log" ] && { echo "== $log"; tail -n 20 "$log"; }
        done
    fi
    echo "$failures checks failed"
    [ "$failures" -eq 0 ]
}

# http_hostnames N ADDRESS PORT — N requests (one connection each, 3 s at most) to ADDRESS:PORT from
# the calling namespace: the whoami "Hostname:" of each answer, one a line. busybox nc: its wget crashes.
http_hostnames() {
    i=0
    while [ "$i" -lt "$1" ]; do
        printf 'GET / HTTP/1.0\r\nConnection: close\r\n\r\n' | timeout 3 nc -w 2 "$2" "$3" 2>/dev/null | tr -d '\r' |
            awk '/^Hostname:/ { print $2 }'
        i=$((i + 1))
    done
}
