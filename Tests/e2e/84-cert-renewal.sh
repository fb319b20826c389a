#!/usr/bin/env bash
# Certificate renewal: a swarm initialised with `--cert-expiry 1m` (shoal
# allows down to one minute for tests like this one) renews every node's
# certificate, managers' and workers', at half its lifetime, before it
# expires; two minutes on, with every first certificate long expired, all
# nodes are Ready and a new service runs. Out-of-range expiries are refused
# in one line.
source "$(dirname "$0")/lib.sh"
use_private_lab_root
on_exit '"$SHOAL" lab down >/dev/null 2>&1'

"$SHOAL" lab up --nodes 3 >/dev/null || { fail "lab up"; exit 1; }
check_fails "an expiry under a minute is refused in one line" "invalid --cert-expiry 30s: it must be between 1m0s and" \
    "$SHOAL" -H lab-1 init --cert-expiry 30s
"$SHOAL" -H lab-1 init --cert-expiry 1m >/dev/null || { fail "init"; exit 1; }
started=$(date +%s)
manager=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $2 }')
token=$("$SHOAL" -H lab-1 join-token -q worker)
join_workers 2 3
"$SHOAL" -H lab-1 node promote lab-2 >/dev/null || fail "promote lab-2"
check "info shows the swarm's certificate expiry" bash -c '"$SHOAL" -H lab-1 info | grep -Eq "^Cert Expiry: +1m0s$"'

# expiry N — when lab-N's current certificate expires, in seconds since the epoch.
expiry() {
    local text
    text=$("$SHOAL" -H "lab-$1" info | sed -n 's/^Node Certificate Expires: *//p') && [ -n "$text" ] && date -d "$text" +%s
}

# Watch each node's certificate for up to 70 s: it must be replaced by a
# later one while the first is still valid.
declare -A first renewed
for n in 1 2 3; do first[$n]=$(expiry $n) || fail "lab-$n shows its certificate expiry"; done
deadline=$(( $(date +%s) + 70 ))
count=0
while [ "$(date +%s)" -lt "$deadline" ] && [ "$count" -lt 3 ]; do
    for n in 1 2 3; do
        [ -n "${renewed[$n]:-}" ] && continue
        now=$(date +%s)
        current=$(expiry $n) || continue
        if [ "$current" -gt "${first[$n]:-0}" ]; then renewed[$n]=$now; count=$((count + 1)); fi
    done
    sleep 1
done
for n in 1 2 3; do
    check "lab-$n renewed its certificate before it expired" \
        bash -c '[ -n "$1" ] && [ "$1" -lt "$2" ]' _ "${renewed[$n]:-}" "${first[$n]:-0}"
done

# Two minutes after init every first certificate has expired, most second ones too.
sleep $(( started + 120 - $(date +%s) > 0 ? started + 120 - $(date +%s) : 0 ))
check "all nodes are Ready two minutes on" eventually 10 bash -c '[ "$("$SHOAL" -H lab-1 node ls | grep -c " Ready ")" = 3 ]'
check "the manager lab-2 still reaches the leader" eventually 10 bash -c '"$SHOAL" -H lab-2 node ls | grep -Eq " lab-2 +Ready +Active +Reachable "'
out=$("$SHOAL" -H lab-2 service create --replicas 3 --name after -- shoal whoami --port 8080 2>&1)
check "a service created after the first certificates expired runs" \
    bash -c 'grep -q "^overall progress: 3 out of 3 tasks$" <<<"$1"' _ "$out"
check_fails "swarm update refuses an expiry over 20 years in one line" "invalid --cert-expiry" \
    "$SHOAL" -H lab-1 swarm update --cert-expiry 200000h
check "swarm update sets a new expiry" bash -c \
    '[ "$("$SHOAL" -H lab-2 swarm update --cert-expiry 2h)" = "Swarm updated." ] && "$SHOAL" -H lab-1 info | grep -Eq "^Cert Expiry: +2h0m0s$"'
