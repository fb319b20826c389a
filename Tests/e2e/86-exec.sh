#!/usr/bin/env bash
# `shoal exec` as docker exec: a command runs inside a running task's
# namespaces on the task's node (its hostname, its PID namespace), its exit
# status comes back (128+N when killed, 127 when not found), `-i` passes
# stdin, `-t` gives it a pty; asked on the wrong node, a manager names the
# task's node and a worker says it is not there; a task that ended is not
# running; each refusal is one line.
source "$(dirname "$0")/lib.sh"

lab_swarm 3
join_workers 2 3
"$SHOAL" -H lab-1 service create --name web --constraint node.hostname==lab-2 -- sleep 1000 >/dev/null \
    || { fail "service create web"; exit 1; }
"$SHOAL" -H lab-1 service create --name once --constraint node.hostname==lab-1 --restart-condition none -d -- true >/dev/null
id=$("$SHOAL" -H lab-1 service ps -q --no-trunc web | head -1)

# 1. On the task's node.
check "exec runs in the task: its hostname is the task's short id" \
    bash -c '[ "$("$SHOAL" -H lab-2 exec web.1 -- hostname)" = "${1:0:12}" ]' _ "$id"
check "exec sees the task's PID namespace: its command is PID 2" \
    bash -c '[ "$("$SHOAL" -H lab-2 exec web.1 -- cat /proc/2/cmdline | tr "\0" " ")" = "sleep 1000 " ]'
check "the task's id, an id prefix and the full name name it too" \
    bash -c 'for t in "$1" "${1:0:6}" "web.1.$1"; do [ "$("$SHOAL" -H lab-2 exec "$t" hostname)" = "${1:0:12}" ] || exit 1; done' _ "$id"
check "the command's exit status comes back" bash -c '"$SHOAL" -H lab-2 exec web.1 -- sh -c "exit 7"; [ $? = 7 ]'
check "a command killed by a signal is 128+N" bash -c '"$SHOAL" -H lab-2 exec web.1 -- sh -c "kill -9 \$\$"; [ $? = 137 ]'
check "the command has the task's environment" \
    bash -c '[ "$("$SHOAL" -H lab-2 exec web.1 -- sh -c "echo \$HOSTNAME")" = "${1:0:12}" ]' _ "$id"
check "the command joins the task's cgroups, as docker exec's does" bash -c '
    [ "$("$SHOAL" -H lab-2 exec web.1 -- cat /proc/self/cgroup)" = "$("$SHOAL" -H lab-2 exec web.1 -- cat /proc/1/cgroup)" ] &&
        "$SHOAL" -H lab-2 exec web.1 -- cat /proc/self/cgroup | grep -q "/$1\$"' _ "$id"
check "-i passes stdin through" bash -c '[ "$(echo hi | "$SHOAL" -H lab-2 exec -i web.1 -- cat)" = hi ]'
check "without -i the command's stdin is empty" bash -c '[ -z "$(echo hi | "$SHOAL" -H lab-2 exec web.1 -- cat)" ]'
out=$(script -qec "$SHOAL -H lab-2 exec -it web.1 -- sh -c 'tty; exit 4'" /dev/null </dev/null); rc=$?
check "-it gives the command a pty and returns its status" \
    bash -c '[ "$2" = 4 ] && grep -Eq "/dev/pts/[0-9]+" <<<"$1"' _ "$out" "$rc"
# A terminal of this test's own (a pty): its size reaches the command, a resize follows, and the
# caller's terminal mode (raw while exec runs) is the same afterwards.
terminal_session() {
    python3 - "$SHOAL" <<'PY'
import fcntl, os, pty, select, struct, sys, termios, time
shoal = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", 'stty -g >"$0"; "$1" -H lab-2 exec -it web.1 -- sh -c "stty size; sleep 1.5; stty size; exit 6"; echo "status $?"; stty -g | cmp -s - "$0" && echo restored',
                         os.environ["E2E_WORK"] + "/stty", shoal])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
output, started, resized = b"", time.time(), False
while time.time() - started < 20:
    if not resized and time.time() - started > 0.8:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        resized = True
    if select.select([fd], [], [], 0.1)[0]:
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        output += data
os.waitpid(pid, 0)
sys.stdout.write(output.decode(errors="replace").replace("\r", ""))
PY
}
export -f terminal_session
export E2E_WORK
check "-it: the terminal's size reaches the command, a resize follows, its status returns, the terminal is restored" \
    bash -c '[ "$(terminal_session)" = "$(printf "30 100\n40 120\nstatus 6\nrestored")" ]'
check_fails "a command that is not there is 127, one line" '^shoal: exec: "no-such-command": executable file not found in \$PATH$' \
    bash -c '"$SHOAL" -H lab-2 exec web.1 -- no-such-command; [ $? != 127 ]'
check_fails "-it without a terminal is docker's error" '^shoal: the input device is not a TTY' \
    "$SHOAL" -H lab-2 exec -it web.1 -- true </dev/null

# 2. Elsewhere.
check_fails "on a manager, a task of another node is named with its node" \
    '^shoal: task web\.1 is running on node lab-2: run shoal exec on that node' "$SHOAL" -H lab-1 exec web.1 -- true
check_fails "on a worker, a task of another node is not there" \
    '^shoal: no such task on this node: web\.1: run shoal exec on the node that runs it' "$SHOAL" -H lab-3 exec web.1 -- true
eventually 10 bash -c '"$SHOAL" -H lab-1 service ps once | grep -q " Complete "'
check_fails "a task that ended is not running" '^shoal: task once\.1 is not running \(Complete .* ago\)$' \
    "$SHOAL" -H lab-1 exec once.1 -- true
check_fails "an unknown task is one line" '^shoal: no such task: web\.9$' "$SHOAL" -H lab-1 exec web.9 -- true
check_fails "a reference with a slash is refused" '^shoal: invalid task "web/1"' "$SHOAL" -H lab-1 exec web/1 -- true
check_fails "no command is a usage error" "requires at least 2 arguments: see 'shoal exec --help'$" "$SHOAL" -H lab-2 exec web.1
