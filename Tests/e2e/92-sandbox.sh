#!/usr/bin/env bash
# A task is confined as docker confines a container: docker's capability set
# in every set, no_new_privs, docker's seccomp profile; the daemon's data dir,
# the node's key, the API socket and the lab root are out of its reach;
# `unshare -U`, `mount` and `keyctl` are refused. `--cap-add SYS_ADMIN` and
# `--security-opt seccomp=unconfined` change exactly that, `shoal exec` runs
# its command confined as the task, and bad names are refused in one line.
source "$(dirname "$0")/lib.sh"

lab_swarm 1
node_dir=$(dirname "$(find "$SHOAL_LAB_ROOT" -name shoal.sock -path '*/lab-1/*' | head -n 1)")
data="$node_dir/data"
socket="$node_dir/shoal.sock"
[ -f "$data/swarm/identity.json" ] && [ -S "$socket" ] || { fail "the node's key and socket are where this test looks"; exit 1; }

# What a task reports of itself: its confinement, what it reaches of the node, what it may do.
probe='grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t"
cat "$0/swarm/identity.json" >/dev/null 2>&1 && echo key-read || echo key-hidden
[ -S "$1" ] && echo socket-seen || echo socket-hidden
[ -z "$(ls -A "$2")" ] && echo lab-root-empty || echo lab-root-seen
unshare -U true 2>/dev/null && echo unshare-allowed || echo unshare-refused
mount -t tmpfs none /mnt 2>/dev/null && echo mount-allowed || echo mount-refused
python3 -c "
import ctypes, platform
number = {\"x86_64\": 250, \"aarch64\": 219}[platform.machine()]
print(\"keyctl-refused\" if ctypes.CDLL(None, use_errno=True).syscall(number, 0, -3, 0) < 0 and ctypes.get_errno() == 1 else \"keyctl-allowed\")
"'

default_report="CapEff:00000000a80425fb
CapBnd:00000000a80425fb
NoNewPrivs:1
Seccomp:2
key-hidden
socket-hidden
lab-root-empty
unshare-refused
mount-refused
keyctl-refused"
admin_report=${default_report//a80425fb/a82425fb}
admin_report=${admin_report/mount-refused/mount-allowed}
admin_report=${admin_report/unshare-refused/unshare-allowed}
unconfined_report=${default_report/Seccomp:2/Seccomp:0}
unconfined_report=${unconfined_report/unshare-refused/unshare-allowed}
unconfined_report=${unconfined_report/keyctl-refused/keyctl-allowed}

start() {
    local name=$1; shift
    "$SHOAL" -H lab-1 service create --name "$name" --restart-condition none "$@" \
        -- sh -c "$probe; exec sleep 1000" "$data" "$socket" "$SHOAL_LAB_ROOT" >/dev/null || fail "service create $name"
}
start box
start admin --cap-add sys_admin
start open --security-opt seccomp=unconfined
export probe data socket

# The task's own report, in its output.
report_is() { [ "$("$SHOAL" -H lab-1 service logs --raw "$1")" = "$2" ]; }
check "a default task holds docker's capabilities, no_new_privs and seccomp, and reaches none of the daemon's state" \
    eventually 30 report_is box "$default_report"
check "--cap-add SYS_ADMIN adds the capability and the syscalls docker ties to it, nothing else" \
    eventually 30 report_is admin "$admin_report"
check "--security-opt seccomp=unconfined lifts the filter only" eventually 30 report_is open "$unconfined_report"
if ! report_is box "$default_report"; then
    fail "box's report" "$("$SHOAL" -H lab-1 service logs --raw box 2>&1)"
fi

# What shoal exec runs is confined as its task.
exec_report_is() {
    [ "$("$SHOAL" -H lab-1 exec "$1.1" -- sh -c "$probe" "$data" "$socket" "$SHOAL_LAB_ROOT")" = "$2" ]
}
export -f exec_report_is
check "shoal exec runs its command as confined as the task" bash -c 'exec_report_is box "$1"' _ "$default_report"
check "shoal exec keeps a task's added capability" bash -c 'exec_report_is admin "$1"' _ "$admin_report"
check "shoal exec keeps a task's unconfined seccomp" bash -c 'exec_report_is open "$1"' _ "$unconfined_report"
check "ping still works: docker keeps NET_RAW" "$SHOAL" -H lab-1 exec box.1 -- ping -c 1 -W 2 127.0.0.1

# service update --cap-add / --cap-drop, as docker's.
"$SHOAL" -H lab-1 service update --cap-drop NET_RAW --cap-add NET_ADMIN -d box >/dev/null || fail "service update box"
check "service update --cap-drop/--cap-add replaces the task with the new set" \
    eventually 30 bash -c '"$SHOAL" -H lab-1 exec box.1 -- grep -q "^CapEff:.*00000000a80415fb" /proc/self/status'

# --read-only, --mount and --user, as docker's; a bind of / still hides the daemon's state.
mkdir -p "$E2E_WORK/shared" && echo "from the node" > "$E2E_WORK/shared/note"
"$SHOAL" -H lab-1 service create --name confined --restart-condition none --read-only \
    --mount "type=bind,source=$E2E_WORK/shared,target=/mnt,readonly" --mount type=bind,source=/,target=/media \
    --mount type=tmpfs,target=/srv,tmpfs-size=1m \
    -- sh -c 'touch /usr/probe 2>/dev/null || echo root-read-only; touch /tmp/probe && echo tmp-writable
touch /srv/probe && echo tmpfs-writable; cat /mnt/note; touch /mnt/probe 2>/dev/null || echo bind-read-only
cat "/media$0/swarm/identity.json" >/dev/null 2>&1 && echo key-read || echo key-hidden; exec sleep 1000' "$data" >/dev/null \
    || fail "service create confined"
confined_report="root-read-only
tmp-writable
tmpfs-writable
from the node
bind-read-only
key-hidden"
check "--read-only and --mount: a read-only tree with a writable /tmp, the mounts; a bind of / shows no node key" \
    eventually 30 report_is confined "$confined_report"
[ ! -e /usr/probe ] || { fail "a --read-only task wrote to the node's /usr"; rm -f /usr/probe; }
"$SHOAL" -H lab-1 service create --name nobody --restart-condition none --user 65534:65534 \
    -- sh -c 'id -u; id -g; grep ^CapEff: /proc/self/status | tr -d "\t"; exec sleep 1000' >/dev/null || fail "service create nobody"
check "--user runs the task as that user, with no capabilities, as docker's" \
    eventually 30 report_is nobody "$(printf '65534\n65534\nCapEff:0000000000000000')"
check "shoal exec runs as the task's user" bash -c '[ "$("$SHOAL" -H lab-1 exec nobody.1 -- id -u)" = 65534 ]'

check_fails "an unknown capability is refused in one line" '^shoal: invalid capability "NET-ADMIN" for --cap-add' \
    "$SHOAL" -H lab-1 service create --name bad --cap-add NET-ADMIN -- true
check_fails "a security option shoal does not take is refused in one line" \
    '^shoal: unsupported security option "apparmor=unconfined": shoal takes seccomp=unconfined$' \
    "$SHOAL" -H lab-1 service create --name bad --security-opt apparmor=unconfined -- true
check_fails "a volume mount is refused in one line" '^shoal: invalid --mount "type=volume,source=v,target=/data": type volume' \
    "$SHOAL" -H lab-1 service create --name bad --mount type=volume,source=v,target=/data -- true
check_fails "a user name is refused in one line" '^shoal: invalid --user "nobody": use a numeric UID or UID:GID' \
    "$SHOAL" -H lab-1 service create --name bad --user nobody -- true
