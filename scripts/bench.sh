#!/usr/bin/env bash
# `make bench`: the footprint of shoal beside etcd 3.4, the store swarm-like
# control planes usually carry — stripped binary size and the resident memory
# of an idle daemon. Writes the "footprint" section of BENCHMARKS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/bench-lib.sh"
: "${SHOAL:?set SHOAL to the shoal binary (make bench does)}"
SHOAL=$(readlink -f "$SHOAL")
ETCD=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}

work=$(mktemp -d)
export SHOAL_LAB_ROOT="$work/labs"
cleanup() {
    "$SHOAL" lab down --name bench >/dev/null 2>&1 || true
    if [ -n "${etcd_pid:-}" ]; then
        kill "$etcd_pid" 2>/dev/null || true
        wait "$etcd_pid" 2>/dev/null || true  # its status is SIGTERM's: the bench itself succeeded
    fi
    rm -rf "$work"
}
trap cleanup EXIT

shoal_size=$(stat -c %s "$SHOAL")
"$SHOAL" lab up --nodes 1 --name bench >/dev/null
sleep 3  # let the daemon settle into idle
shoal_pid=$("$SHOAL" lab ls | awk '$1 == "bench-1" { print $3 }')
shoal_rss=$(rss_kib "$shoal_pid")

"$ETCD" --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:23790 \
    --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
    >"$work/etcd.log" 2>&1 &
etcd_pid=$!
sleep 3
etcd_rss=$(rss_kib "$etcd_pid")
etcd_size=$(stat -c %s "$(readlink -f "$ETCD")")

mib() { python3 -c "print(f'{$1 / 1048576:.1f}')"; }
size_ratio=$(ratio "$shoal_size" "$etcd_size")
rss_ratio=$(ratio "$shoal_rss" "$etcd_rss")

cat > "$work/section.md" <<MD
## Footprint

Command: \`make bench\` (scripts/bench.sh). Measured $(machine_line).

| | shoal | etcd $("$ETCD" --version | awk '/etcd Version/ { print $3 }') | shoal ÷ etcd | target |
|---|---|---|---|---|
| binary size (stripped, static) | $(mib "$shoal_size") MiB | $(mib "$etcd_size") MiB | $size_ratio | shoal ≤ 30 MB |
| resident memory, idle daemon | $(mib $((shoal_rss * 1024))) MiB | $(mib $((etcd_rss * 1024))) MiB | $rss_ratio | shoal ≤ 40 MB |

The shoal daemon runs in a one-node \`shoal lab\`; etcd runs with its defaults on loopback.
MD
write_section footprint "$work/section.md"
cat "$work/section.md"
echo "footprint binary_bytes=$shoal_size idle_rss_kib=$shoal_rss size_ratio=$size_ratio rss_ratio=$rss_ratio"
