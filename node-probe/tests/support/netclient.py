"""Tries each destination given on the command line and prints one JSON line per try:
{"op": ..., "ok": bool, "errno": name or null}. Ops: tcp4:HOST:PORT, tcp6:HOST:PORT
(HOST may be a v4-mapped address), udp4:HOST:PORT (unconnected sendto)."""
import errno
import json
import socket
import sys

for op in sys.argv[1:]:
    kind, rest = op.split(":", 1)
    host, port = rest.rsplit(":", 1)
    family = socket.AF_INET6 if kind.endswith("6") else socket.AF_INET
    stype = socket.SOCK_DGRAM if kind.startswith("udp") else socket.SOCK_STREAM
    s = socket.socket(family, stype)
    s.settimeout(2)
    try:
        if stype == socket.SOCK_DGRAM:
            s.sendto(b"x", (host, int(port)))
        else:
            s.connect((host, int(port)))
        print(json.dumps({"op": op, "ok": True, "errno": None}))
    except OSError as e:
        print(json.dumps({"op": op, "ok": False, "errno": errno.errorcode.get(e.errno, str(e.errno))}))
    finally:
        s.close()
