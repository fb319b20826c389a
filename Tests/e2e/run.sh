#!/usr/bin/env bash
# Runs every end-to-end scenario (Tests/e2e/[0-9]*.sh) against the real static
# binary and ends with "N passed, N failed". Usage: SHOAL=bin/shoal run.sh [NAME…]
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SHOAL:?set SHOAL to the shoal binary (make e2e does)}"
SHOAL=$(readlink -f "$SHOAL")
export SHOAL
export DIST=${DIST:-$(dirname "$SHOAL")/../dist}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
export E2E_RESULTS=$results

scenarios=()
if [ $# -gt 0 ]; then
    for name in "$@"; do scenarios+=("$here/$name.sh"); done
else
    scenarios=("$here"/[0-9]*.sh)
fi

for path in "${scenarios[@]}"; do
    name=$(basename "$path" .sh)
    echo "== $name"
    work=$(mktemp -d)
    before=$(grep -c '' "$results")
    E2E_WORK=$work bash "$path"
    rc=$?
    rm -rf "$work"
    # A scenario that dies without recording a failure still counts as one.
    if [ "$rc" -ne 0 ] && ! tail -n +"$((before + 1))" "$results" | grep -q '^FAIL'; then
        echo "FAIL $name: exited with status $rc" >> "$results"
        echo "  FAIL exited with status $rc" >&2
    fi
done

passed=$(grep -c '^PASS' "$results" || true)
failed=$(grep -c '^FAIL' "$results" || true)
if [ "$failed" -gt 0 ]; then
    echo
    grep '^FAIL' "$results"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
