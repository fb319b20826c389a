#!/usr/bin/env python3
"""A stand-in upstream DNS server for the e2e tests (never the machine's resolver):
outside.example A -> 192.0.2.7, every other name NXDOMAIN; UDP and TCP on ADDRESS PORT."""
import socket
import struct
import sys
import threading

ADDRESS, PORT = sys.argv[1], int(sys.argv[2])
KNOWN = {b"outside.example": bytes([192, 0, 2, 7])}


def answer(query):
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    offset, labels = 12, []
    while offset < len(query) and query[offset] != 0:
        length = query[offset]
        labels.append(query[offset + 1:offset + 1 + length].lower())
        offset += 1 + length
    question = query[12:offset + 5]
    qtype = struct.unpack("!H", query[offset + 1:offset + 3])[0] if offset + 3 <= len(query) else 0
    address = KNOWN.get(b".".join(labels))
    rd = flags & 0x0100
    if address is None:
        return struct.pack("!HHHHHH", ident, 0x8083 | rd, 1, 0, 0, 0) + question
    records = b""
    if qtype == 1:
        records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + address
    return struct.pack("!HHHHHH", ident, 0x8080 | rd, 1, 1 if records else 0, 0, 0) + question + records


def serve_udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ADDRESS, PORT))
    while True:
        query, client = sock.recvfrom(4096)
        reply = answer(query)
        if reply:
            sock.sendto(reply, client)


def serve_tcp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ADDRESS, PORT))
    sock.listen(16)
    while True:
        conn, _ = sock.accept()
        with conn:
            conn.settimeout(2)
            try:
                length = struct.unpack("!H", conn.recv(2))[0]
                query = b""
                while len(query) < length:
                    query += conn.recv(length - len(query))
                reply = answer(query)
                if reply:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, struct.error):
                pass


threading.Thread(target=serve_tcp, daemon=True).start()
serve_udp()
