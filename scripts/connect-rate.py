"""Connections per second to HOST:PORT for SECONDS: connect, then close, one after another."""
import socket
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
count = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    with socket.create_connection((host, port), timeout=2) as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    count += 1
print(f"{count / seconds:.1f}")
