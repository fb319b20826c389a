#!/usr/bin/env bash
# `make bench-dns`: dnsperf against shoal's embedded DNS server (127.0.0.11 inside a task) and against
# dnsmasq serving the same records from inside the same task, same query file (the service, tasks.*,
# the slot names, and an unknown name both forward to an identical dnsmasq upstream on their own
# loopback), same run, rounds alternating. Queries per second from plain runs; the 99th percentile
# latency from verbose runs. Writes the "dns" section of BENCHMARKS.md; the last line is the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/bench-lib.sh"
: "${SHOAL:?set SHOAL to the shoal binary (make bench-dns does)}"
SHOAL=$(readlink -f "$SHOAL")
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-5}

work=$(mktemp -d)
chmod 755 "$work"
export SHOAL_LAB_ROOT="$work/labs"
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    "$SHOAL" lab down --name bench >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$SHOAL" lab up --nodes 1 --name bench --dns-upstream 127.0.0.1:5353 >/dev/null
"$SHOAL" -H bench-1 init >/dev/null
"$SHOAL" -H bench-1 network create bench >/dev/null
"$SHOAL" -H bench-1 service create --detach --name whoami --replicas 3 --network bench -- sleep 36000 >/dev/null
"$SHOAL" -H bench-1 service create --detach --name client --network bench -- sleep 36000 >/dev/null
until [ "$("$SHOAL" -H bench-1 service ps whoami | grep -c ' Running ')" = 3 ] \
    && "$SHOAL" -H bench-1 exec client.1 -- true 2>/dev/null; do sleep 0.2; done

# The records as shoal answers them, for dnsmasq's hosts file.
answer() { "$SHOAL" -H bench-1 dig --network bench +short "$1"; }
{
    echo "$(answer whoami) whoami"
    for ip in $(answer tasks.whoami); do echo "$ip tasks.whoami"; done
    for slot in 1 2 3; do echo "$(answer "whoami.$slot") whoami.$slot"; done
} > "$work/hosts"
printf '%s A\n' whoami tasks.whoami whoami.1 whoami.2 whoami.3 nosuch.example > "$work/queries"

# upstream NETNS_COMMAND… — a dnsmasq on 127.0.0.1:5353 that says NXDOMAIN for *.example.
upstream() { "$@" dnsmasq --keep-in-foreground --port=5353 --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --local=/example/ --user=root --pid-file= >/dev/null 2>&1 & pids+=($!); }
upstream "$SHOAL" lab exec bench-1 --                    # where shoal's daemon forwards from
upstream "$SHOAL" -H bench-1 exec client.1 --            # where the compared dnsmasq forwards from
"$SHOAL" -H bench-1 exec client.1 -- dnsmasq --keep-in-foreground --port=5300 --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --addn-hosts="$work/hosts" --local-ttl=600 --server=127.0.0.1#5353 \
    --user=root --pid-file= >/dev/null 2>&1 & pids+=($!)
sleep 1

# perf SERVER PORT [-v] — dnsperf from inside the client task.
perf() { "$SHOAL" -H bench-1 exec client.1 -- dnsperf -s "$1" -p "$2" -d "$work/queries" -l "$SECONDS_PER_RUN" "${@:3}"; }
qps() { perf "$1" "$2" | awk '/Queries per second:/ { print $4 }'; }
p99() { perf "$1" "$2" -v | awk '/^> / { print $NF }' | sort -g | awk '{ v[NR] = $1 } END { print v[int(NR * 0.99)] }'; }

declare -a shoal_qps dnsmasq_qps shoal_p99 dnsmasq_p99
for round in $(seq "$ROUNDS"); do
    # Alternate who goes first, so neither always runs on a warmer machine.
    if (( round % 2 )); then order="shoal dnsmasq"; else order="dnsmasq shoal"; fi
    for peer in $order; do
        if [ "$peer" = shoal ]; then server=127.0.0.11 port=53; else server=127.0.0.1 port=5300; fi
        q=$(qps "$server" "$port"); l=$(p99 "$server" "$port")
        eval "${peer}_qps+=(\"$q\"); ${peer}_p99+=(\"$l\")"
        echo "round $round $peer: $q qps, p99 $l s" >&2
    done
done
sq=$(median "${shoal_qps[@]}") dq=$(median "${dnsmasq_qps[@]}")
sl=$(median "${shoal_p99[@]}") dl=$(median "${dnsmasq_p99[@]}")
qps_ratio=$(paired_ratio "${shoal_qps[*]}" "${dnsmasq_qps[*]}")
p99_ratio=$(paired_ratio "${shoal_p99[*]}" "${dnsmasq_p99[*]}")

body=$(mktemp)
cat > "$body" <<EOF
## DNS: shoal's embedded server against dnsmasq (\`make bench-dns\`)

dnsperf 2.10 from inside one task, ${SECONDS_PER_RUN} s per run, ${ROUNDS} rounds alternating who goes first;
the table has each figure's median, the ratios are the medians of the per-round ratios. The
queries cycle through whoami, tasks.whoami (3 addresses), whoami.1–3 and nosuch.example (forwarded by both to
an identical dnsmasq upstream). $(machine_line).

| server | queries/s | p99 latency |
| --- | ---: | ---: |
| shoal (127.0.0.11 in the task) | $sq | ${sl} s |
| dnsmasq (same records, same task) | $dq | ${dl} s |

\`dns_vs_dnsmasq qps_ratio=$qps_ratio p99_ratio=$p99_ratio\` (targets: qps ≥ 1.0, p99 ≤ 1.0)
EOF
write_section dns "$body"
rm -f "$body"
echo "dns_vs_dnsmasq qps_ratio=$qps_ratio p99_ratio=$p99_ratio"
