"""The floor for `make bench-tasks`: start N `shoal task-init` processes
directly (each through its namespace handshake, no network set up), then stop
them with SIGTERM and reap them. Prints "start_seconds stop_seconds"."""
import os
import signal
import sys
import time

shoal, count = sys.argv[1], int(sys.argv[2])
environment = {"PATH": "/usr/bin:/bin"}
children = []
started = time.monotonic()
for index in range(count):
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe()
    pid = os.posix_spawn(
        shoal,
        ["shoal", "task-init", "--hostname", f"floor{index}", "--program", "/bin/sleep", "--", "sleep", "1000"],
        environment,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, ready_write, 3),
            (os.POSIX_SPAWN_DUP2, go_read, 4),
        ],
    )
    os.close(ready_write)
    os.close(go_read)
    if os.read(ready_read, 1) != b"r":
        sys.exit(f"task-init {index} did not come up")
    os.write(go_write, b"g")
    os.close(ready_read)
    os.close(go_write)
    children.append(pid)
start_seconds = time.monotonic() - started

stopping = time.monotonic()
for pid in children:
    os.kill(pid, signal.SIGTERM)
for pid in children:
    os.waitpid(pid, 0)
print(f"{start_seconds:.3f} {time.monotonic() - stopping:.3f}")
