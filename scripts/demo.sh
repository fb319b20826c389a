#!/usr/bin/env bash
# `make demo`: the seeds' tutorial, as far as shoal goes today — a three-node
# lab on this machine, each node a shoal daemon with its own network
# namespace and host name, talking over the lab's switch.
set -euo pipefail
: "${SHOAL:?set SHOAL to the shoal binary (make demo does)}"
shoal() { "$SHOAL" "$@"; }

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { say "shoal $*"; shoal "$@"; }

if shoal lab ls | grep -q '^lab-'; then
    say "shoal lab down   # a lab from an earlier demo"
    shoal lab down
fi

run lab up --nodes 3
run lab ls
run -H lab-1 info
run -H lab-2 version
address_of_lab_3=$(shoal lab ls | awk '$1 == "lab-3" { print $2 }')
run lab exec lab-1 -- ping -c 2 "$address_of_lab_3"
run lab exec lab-2 -- hostname

cat <<TEXT

The lab stays up: talk to a node with 'shoal -H lab-2 …', run commands inside
one with 'shoal lab exec lab-2 -- …', and remove it all with 'shoal lab down'.
TEXT
