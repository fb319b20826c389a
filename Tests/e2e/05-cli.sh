#!/usr/bin/env bash
# The command line: help, version, and one-line errors for what a user gets wrong.
source "$(dirname "$0")/lib.sh"

check "the binary is statically linked" bash -c 'file "$SHOAL" | grep -q "statically linked"'
check "the binary is at most 30 MB" bash -c '[ "$(stat -c %s "$SHOAL")" -le $((30 * 1024 * 1024)) ]'

help=$("$SHOAL" --help)
for command in daemon init join join-token leave node service run network dig lab whoami version info completion; do
    check "--help lists $command" bash -c 'printf "%s\n" "$1" | grep -Eq "^  $2 "' _ "$help" "$command"
done
check "version prints the client version" bash -c '"$SHOAL" version | grep -Eq "[0-9]+\.[0-9]+\.[0-9]+"'

check_fails "an unknown flag is one line" "^shoal: .*--bogus" "$SHOAL" lab up --bogus
check_fails "an unknown command is one line" "^shoal: " "$SHOAL" frobnicate
check_fails "a bad --listen-addr is one line" "^shoal: .*listen" "$SHOAL" daemon --listen-addr nope
check_fails "a bad --lb is one line" "^shoal: .*--lb must be auto, ipvs or nftables" "$SHOAL" daemon --lb maglev
if [ ! -e /proc/net/ip_vs ]; then
    check_fails "--lb ipvs on a kernel without IPVS fails at start in one line" "^shoal: --lb ipvs: this kernel has no IPVS .*use --lb nftables or auto$" \
        "$SHOAL" daemon --lb ipvs --data-dir "$E2E_WORK/ipvs" --socket "$E2E_WORK/ipvs.sock" --listen-addr 127.0.0.1:2398
fi
check_fails "no daemon on the socket is one line" "^shoal: .*daemon" \
    "$SHOAL" -H "$E2E_WORK/nothing.sock" info
check_fails "an unknown lab node is one line" "^shoal: .*lab-7" "$SHOAL" -H lab-7 info

nobody_runs() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
check_fails "lab up without root says root is needed" "^shoal: .*root" nobody_runs "$SHOAL" lab up --nodes 1
check_fails "daemon without root says root is needed" "^shoal: .*root" nobody_runs "$SHOAL" daemon

# A daemon of its own on a private socket: info answers, a second one is refused.
data="$E2E_WORK/data" socket="$E2E_WORK/shoal.sock"
"$SHOAL" daemon --data-dir "$data" --socket "$socket" --listen-addr 127.0.0.1:2399 2>"$E2E_WORK/daemon.log" &
daemon=$!
on_exit "kill $daemon 2>/dev/null; wait $daemon 2>/dev/null"
check "the daemon answers on its socket" eventually 10 "$SHOAL" -H "$socket" info
check "info names the data dir and pid" \
    bash -c 'out=$("$SHOAL" -H "unix://$1" info) && grep -q "$2" <<<"$out" && grep -q "$3" <<<"$out"' _ "$socket" "$data" "$daemon"
check "info shows the load balancer --lb auto chose" bash -c '
    expected=nftables; [ -e /proc/net/ip_vs ] && expected=ipvs
    "$SHOAL" -H "unix://$1" info | grep -Eqx "Load Balancer: +$expected"' _ "$socket"
check "the data dir is root-only" bash -c '[ "$(stat -c %a "$1")" = 700 ]' _ "$data"
check "the socket is root-only" bash -c '[ "$(stat -c %a "$1")" = 600 ]' _ "$socket"
check "logs are structured lines" bash -c 'grep -Eq "level=[a-z]+ .*msg=" "$1"' _ "$E2E_WORK/daemon.log"
# Input the CLI never sends, straight to the socket: a 400, nothing written, and the daemon lives.
status_of() { curl -s -o /dev/null -w "%{http_code}" -m 10 --unix-socket "$socket" "$@"; }
export -f status_of; export socket
check "a query '?=' gets a 400" bash -c '[ "$(status_of "http://shoal/tasks?=")" = 400 ]'
check "a bad percent escape gets a 400" bash -c '[ "$(status_of "http://shoal/tasks?service=%zz")" = 400 ]'
check "heartbeatPeriod 1e300 gets a 400" bash -c '[ "$(status_of -X POST -H "Content-Type: application/json" \
    -d "{\"heartbeatPeriod\":1e300,\"forceNewCluster\":false}" http://shoal/swarm/init)" = 400 ]'
check "and nothing of a swarm is written" bash -c '[ ! -e "$1/swarm" ]' _ "$data"
# raw_request TEXT — sends TEXT (\r, \n as escapes), prints the whole answer; fails unless the daemon hangs up within 10 s.
raw_request() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while chunk := s.recv(4096): data += chunk
print(data.decode(errors="replace"))' "$socket" "$1"
}
export -f raw_request
check "a request line with a space gets a 400 and the connection is closed" \
    bash -c 'raw_request "GET /tasks?service=a b HTTP/1.1\r\nHost: x\r\n\r\n" | head -1 | grep -q " 400 "'
check "the daemon still answers after all of them" "$SHOAL" -H "$socket" info
check_fails "a second daemon on the same data dir is refused" "^shoal: " \
    "$SHOAL" daemon --data-dir "$data" --socket "$E2E_WORK/other.sock"
kill -TERM "$daemon"
check "SIGTERM stops the daemon and removes its socket" \
    bash -c 'wait "$1" 2>/dev/null; for i in $(seq 50); do [ -e "$2" ] || exit 0; sleep 0.1; done; exit 1' _ "$daemon" "$socket"
