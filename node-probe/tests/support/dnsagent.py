"""An agent that finds its model server by name. Run in its own network and mount
namespaces (the test makes them), as root: it answers DNS on 127.0.0.1:53 itself, points
/etc/resolv.conf there (a bind mount private to its namespace), then lets glibc's resolver
look up `models.internal.test` (A and AAAA) and connects to what it says, three times.
Prints one JSON line: the port it connected to and the addresses it was given."""
import json
import socket
import struct
import subprocess
import sys
import tempfile
import threading

NAME = "models.internal.test"

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
resolv = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
resolv.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
resolv.close()
subprocess.run(["mount", "--bind", resolv.name, "/etc/resolv.conf"], check=True)


def question(message):
    labels, pos = [], 12
    while message[pos]:
        n = message[pos]
        labels.append(message[pos + 1:pos + 1 + n].decode().lower())
        pos += 1 + n
    qtype = struct.unpack("!H", message[pos + 1:pos + 3])[0]
    return ".".join(labels), qtype, pos + 5


def serve(sock):
    while True:
        message, peer = sock.recvfrom(512)
        name, qtype, end = question(message)
        known = name == NAME
        answers = b""
        count = 0
        if known and qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton("127.0.0.1")
            count = 1
        flags = 0x8180 if known else 0x8183  # NOERROR, or NXDOMAIN
        header = message[:2] + struct.pack("!HHHHH", flags, 1, count, 0, 0)
        sock.sendto(header + message[12:end] + answers, peer)


resolver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
resolver.bind(("127.0.0.1", 53))
threading.Thread(target=serve, args=(resolver,), daemon=True).start()

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)
port = listener.getsockname()[1]

given = set()
for _ in range(3):
    for family, _, _, _, address in socket.getaddrinfo(NAME, port, type=socket.SOCK_STREAM):
        given.add(address[0])
    with socket.create_connection((NAME, port), timeout=2):
        listener.accept()[0].close()
print(json.dumps({"port": port, "given": sorted(given)}))
sys.stdout.flush()
