#!/usr/bin/env bash
# Issue 10, item 3: an anonymous peer cannot make a manager hold memory or
# files. From another node's namespace, a client without a certificate sends
# 2 MB of root-CA requests on a few connections without reading an answer,
# then holds 500 idle connections; the manager's RSS stays under 100 MB, its
# open files come back to where they were once the client is gone, and the
# cluster still answers.
source "$(dirname "$0")/lib.sh"

lab_swarm 3
pid=$("$SHOAL" lab ls | awk '$1 == "lab-1" { print $3 }')
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }
fds_before=$(fds)

cat > "$E2E_WORK/flood.py" <<'PY'
import socket, ssl, sys, time
host, port = sys.argv[1], 2377
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.minimum_version = ssl.TLSVersion.TLSv1_3

def connect():
    raw = socket.create_connection((host, port), timeout=5)
    try:
        return context.wrap_socket(raw)
    except (OSError, ssl.SSLError):
        raw.close()
        return None

# 2 MB of 6-byte root-CA requests (length 2, wire version 1, kind 128) on 4 connections, never read.
request = bytes([0, 0, 0, 2, 1, 128])
sent = 0
for _ in range(4):
    conn = connect()
    if conn is None:
        continue
    try:
        conn.sendall(request * (512 * 1024 // len(request)))
        sent += 512 * 1024
    except (OSError, ssl.SSLError):
        pass  # the manager answered once and closed: what it should do
    conn.close()
# 500 idle connections held at once.
held = [c for c in (connect() for _ in range(500)) if c is not None]
print(f"sent {sent} bytes before the manager closed; {len(held)} of 500 idle connections got through", flush=True)
time.sleep(3)
for c in held:
    c.close()
PY
python=$(python3 -c 'import sys; print(sys.executable)')
"$SHOAL" lab exec lab-2 -- "$python" "$E2E_WORK/flood.py" "$manager" > "$E2E_WORK/flood.out" 2>&1 &
flood=$!
peak=$(rss_kb)
while kill -0 "$flood" 2>/dev/null; do
    now=$(rss_kb); [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.1
done
wait "$flood"
echo "  $(cat "$E2E_WORK/flood.out"); manager peak RSS $((peak / 1024)) MB"
check "the manager's RSS stays under 100 MB during the flood" bash -c '[ "$1" -lt 102400 ]' _ "$peak"
check "the client got at most 8 idle connections through" bash -c '
    n=$(grep -o "[0-9]* of 500" "$1" | cut -d" " -f1) && [ -n "$n" ] && [ "$n" -le 8 ]' _ "$E2E_WORK/flood.out"
check "its open files come back to within 10 of the start once the client is gone" eventually 15 bash -c \
    '[ "$(ls /proc/$1/fd | wc -l)" -le $(($2 + 10)) ]' _ "$pid" "$fds_before"
check "and its RSS is still under 100 MB after" bash -c '[ "$(awk "/^VmRSS:/ { print \$2 }" /proc/$1/status)" -lt 102400 ]' _ "$pid"
check "the manager still answers node ls" bash -c '"$SHOAL" -H lab-1 node ls | grep -Eq " lab-1 +Ready +Active +Leader "'
check "and a node still joins" "$SHOAL" -H lab-3 join --token "$token" "$manager"
