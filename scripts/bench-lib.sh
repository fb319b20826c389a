# Helpers shared by the benchmark scripts. Each benchmark owns one section of
# BENCHMARKS.md, between "<!-- NAME -->" and "<!-- /NAME -->", and rewrites
# only that section, so running one benchmark keeps the others' figures.

BENCHMARKS_FILE=${BENCHMARKS_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/BENCHMARKS.md}

# write_section NAME FILE — puts FILE's text into section NAME.
write_section() {
    local name=$1 body=$2
    [ -f "$BENCHMARKS_FILE" ] || printf '# Benchmarks\n\nEvery figure is a ratio against a peer measured in the same run on the same machine.\n' > "$BENCHMARKS_FILE"
    python3 - "$BENCHMARKS_FILE" "$name" "$body" <<'PY'
import re, sys
path, name, body_path = sys.argv[1:]
text = open(path).read()
section = f"<!-- {name} -->\n{open(body_path).read().rstrip()}\n<!-- /{name} -->"
pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
}

# machine_line — what the figures were measured on.
machine_line() {
    printf '%s, %s cores, kernel %s, %s' "$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -r)" \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
}

# rss_kib PID — resident set size in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# bench_swarm — a 3-node lab named "bench" under $SHOAL_LAB_ROOT: a swarm on
# bench-1 and the two others joined as workers, all Ready.
bench_swarm() {
    local manager token node
    "$SHOAL" lab up --nodes 3 --name bench >/dev/null
    "$SHOAL" -H bench-1 init >/dev/null
    manager=$("$SHOAL" lab ls | awk '$1 == "bench-1" { print $2 }')
    token=$("$SHOAL" -H bench-1 join-token -q worker)
    for node in bench-2 bench-3; do "$SHOAL" -H "$node" join --token "$token" "$manager" >/dev/null; done
    until [ "$("$SHOAL" -H bench-1 node ls | grep -c ' Ready ')" = 3 ]; do sleep 0.1; done
}

# median V… — the middle value (the lower of the two middle ones for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ratio A B — A / B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# paired_ratio "A1 A2 …" "B1 B2 …" — the median over rounds of Ai / Bi. A round measures its two figures
# minutes apart at most, so a round the machine ran slower for (another process, a cache, the clock)
# slows both and leaves their ratio; the medians of each side alone keep that noise.
paired_ratio() {
    local -a a b per_round=()
    read -r -a a <<< "$1"
    read -r -a b <<< "$2"
    local i
    for i in "${!a[@]}"; do per_round+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.6f", x / y }')"); done
    ratio "$(median "${per_round[@]}")" 1
}
