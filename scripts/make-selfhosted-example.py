#!/usr/bin/env python3
"""Records examples/selfhosted-agent/spool: two real self-hosted agents watched by the real
probe (`agentward probe run --k8s --record-syscalls`), as two weeks of two Kubernetes
Deployments in one cluster.

What is real: every record. The agent (examples/selfhosted-agent/agent/agent.py, installed
with its pinned PyPI requirements in /opt/support-bot) runs for real in cgroups laid out as
the kubelet lays out pods (kubepods/burstable/pod<uid>/<container>), the kernel programs
see it, the probe attributes it through a kubelet-style pod log directory to the
Deployment `agents/support-bot`, derives its inventory (LangGraph, the OpenAI SDK, the MCP
SDK, mcp-server-time) and writes the spool. What is arranged: the sessions run one after
another in a few minutes, and each is then moved to its place on the timeline (its
records' times shifted by one offset, nothing else changed): two pods, one session a day each, 2026-11-01 to 2026-11-14, a rollout to two new pods on day 7, and on 2026-11-11 one
session that follows an injected support ticket: it starts mcp-server-fetch, an MCP
server nobody declared, and connects to an address the ticket named. The agent finds its
model gateway and that address by name, through a resolver this script plays on
127.0.0.1:53 (each session's /etc/resolv.conf points there, in a mount namespace of its
own), so the spool has its DNS lookups and the names of the endpoints it reached.

The second Deployment, `agents/kb-indexer` (examples/selfhosted-agent/agent/indexer.py,
one pod, a run a day at 11:00), behaves otherwise: no framework, no MCP, no child
process; it reads documents, writes its index atomically and hands it to the vector
store. The probe records both agents' syscalls (a bit per syscall per cgroup), from
which `agentward artifacts` makes each its own seccomp envelope.

Needs root (the probe loads eBPF), Debian's python3-venv, and PyPI once (the venv). Run
from anywhere; regenerating gives an equivalent, not byte-identical, recording (pids,
cgroup ids and timings are the machine's).
"""
import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples/selfhosted-agent"
APP = Path("/opt/support-bot")
NODE = "node-eu-1a"
CLUSTER = "prod-eu-1"
NAMESPACE = "agents"
MODEL = ("127.0.0.1", 18080)  # the cluster's model gateway
TICKET_TARGET = ("127.0.0.1", 18443)  # the address the injected ticket names
# The names the agent looks them up by, through the cluster's resolver (played by this
# script on 127.0.0.1:53, which each session's /etc/resolv.conf points at).
VECTOR_STORE = ("127.0.0.1", 16333)  # the indexer's vector store
NAMES = {"model-gateway.agents.svc.cluster.local": MODEL, "paste.exfil.example": TICKET_TARGET,
         "vector-db.agents.svc.cluster.local": VECTOR_STORE}
MODEL_NAME, TICKET_NAME, VECTOR_NAME = NAMES
START = datetime(2026, 11, 1, tzinfo=timezone.utc)
DAYS = 14
ROLLOUT_DAY = 7
INJECTED = (11, 14)  # day (1-based), hour

PODS_BEFORE = ["support-bot-7d9f8b6c5d-x2k4p", "support-bot-7d9f8b6c5d-m8q7z"]
PODS_AFTER = ["support-bot-5c6d7f8b94-h4n2w", "support-bot-5c6d7f8b94-r9t5v"]
INDEXER_POD = "kb-indexer-6b8c9d7f5-q7w2x"


def binary() -> Path:
    if os.environ.get("AGENTWARD_BIN"):
        return Path(os.environ["AGENTWARD_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    subprocess.run(["cargo", "build", "--locked", "--quiet"], cwd=REPO, check=True)
    return target / "debug/agentward"


def cgroup2_root() -> Path:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[0] == "cgroup2":
            return Path(left.split()[4])
    sys.exit("no cgroup2 hierarchy mounted")


def pod_uid(pod: str) -> str:
    h = hashlib.sha256(pod.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def install_agent() -> Path:
    python = APP / ".venv/bin/python"
    requirements = EXAMPLE / "agent/requirements.txt"
    stamp = APP / ".venv/requirements.txt"
    if not python.exists() or not stamp.exists() or stamp.read_text() != requirements.read_text():
        shutil.rmtree(APP / ".venv", ignore_errors=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(APP / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(requirements)], check=True)
        shutil.copy(requirements, stamp)
    (APP / "app").mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE / "agent/agent.py", APP / "app/agent.py")
    shutil.copy(EXAMPLE / "agent/indexer.py", APP / "app/indexer.py")
    docs = APP / "kb/docs"
    docs.mkdir(parents=True, exist_ok=True)
    for n, text in enumerate(["Refunds take 5 days.", "Orders ship from Lyon.", "Support hours: 8-18 CET."]):
        (docs / f"doc-{n}.md").write_text(text + "\n")
    return python


def listen(addr) -> None:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(64)

    def serve():
        while True:
            conn, _ = s.accept()
            conn.close()

    threading.Thread(target=serve, daemon=True).start()


def resolver() -> Path:
    """Answers A queries for NAMES (AAAA: no records; anything else: NXDOMAIN) on
    127.0.0.1:53; returns a resolv.conf that points at it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 53))

    def serve():
        while True:
            message, peer = s.recvfrom(512)
            labels, pos = [], 12
            while message[pos]:
                labels.append(message[pos + 1:pos + 1 + message[pos]].decode().lower())
                pos += 1 + message[pos]
            qtype = int.from_bytes(message[pos + 1:pos + 3], "big")
            name, end = ".".join(labels), pos + 5
            known = name in NAMES
            answer = b""
            if known and qtype == 1:
                answer = (b"\xc0\x0c" + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")
                          + (30).to_bytes(4, "big") + (4).to_bytes(2, "big")
                          + socket.inet_aton(NAMES[name][0]))
            flags = 0x8180 if known else 0x8183
            header = message[:2] + flags.to_bytes(2, "big") + (1).to_bytes(2, "big") \
                + (1 if answer else 0).to_bytes(2, "big") + bytes(4)
            s.sendto(header + message[12:end] + answer, peer)

    threading.Thread(target=serve, daemon=True).start()
    conf = Path(tempfile.mkdtemp(prefix="agentward-resolv-")) / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    return conf


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("run as root: the probe loads eBPF programs")
    agentward = binary()
    python = install_agent()
    listen(MODEL)
    listen(TICKET_TARGET)
    listen(VECTOR_STORE)
    resolv_conf = resolver()

    root = cgroup2_root()
    kubepods = root / "kubepods"
    work = Path(tempfile.mkdtemp(prefix="agentward-example-"))
    pod_logs = work / "pods"
    pod_logs.mkdir()
    cgroups = {}
    for pod in PODS_BEFORE + PODS_AFTER + [INDEXER_POD]:
        uid = pod_uid(pod)
        app = "kb-indexer" if pod == INDEXER_POD else "support-bot"
        container = hashlib.sha256(f"{pod}/{app}".encode()).hexdigest()
        path = kubepods / "burstable" / f"pod{uid}" / container
        path.mkdir(parents=True, exist_ok=True)
        (pod_logs / f"{NAMESPACE}_{pod}_{uid}").mkdir()
        cgroups[pod] = path

    spool = work / "spool"
    probe = subprocess.Popen([str(agentward), "probe", "run", "--k8s", "--pod-log-dir", str(pod_logs),
                              "--scope", CLUSTER, "--node", NODE, "--spool", str(spool),
                              "--flush-every", "1", "--repeats-every", "1", "--record-syscalls"])
    status = spool / "status" / f"{NODE}.json"
    for _ in range(200):
        if status.exists():
            break
        time.sleep(0.05)
    else:
        probe.kill()
        sys.exit("the probe did not start")

    sessions = []  # (wall ms at start, new start time)
    for day in range(1, DAYS + 1):
        pods = PODS_BEFORE if day < ROLLOUT_DAY else PODS_AFTER
        for hour, pod in [(9, pods[0]), (11, INDEXER_POD), (14, pods[1])]:
            injected = (day, hour) == INJECTED
            at = START + timedelta(days=day - 1, hours=hour, minutes=5 if injected else 0)
            sessions.append((int(time.time() * 1000), at))
            model = "%s:%d" % (MODEL_NAME, MODEL[1])
            if pod == INDEXER_POD:
                args = [str(python), str(APP / "app/indexer.py"), "--model", model,
                        "--vector-store", "%s:%d" % (VECTOR_NAME, VECTOR_STORE[1]),
                        "--docs", str(APP / "kb/docs"), "--index", str(APP / "kb/index")]
            else:
                args = [str(python), str(APP / "app/agent.py"), "--model", model]
            if injected:
                args += ["--follow-ticket", "%s:%d" % (TICKET_NAME, TICKET_TARGET[1])]
            # Its own mount namespace, for the pod's resolv.conf; the network is the host's.
            command = (f'mount --bind {resolv_conf} /etc/resolv.conf && '
                       f'echo $$ > {cgroups[pod]}/cgroup.procs && exec "$@"')
            subprocess.run(["unshare", "--mount", "sh", "-c", command, "sh", *args], check=True,
                           cwd=APP / "app", stdout=subprocess.DEVNULL)
            # The probe's next report (repeats counted in the kernel) lands in this session.
            time.sleep(1.3)
    probe.send_signal(signal.SIGINT)
    probe.wait(timeout=30)

    records = []
    for file in sorted(spool.rglob("*.jsonl.gz")):
        records.extend(json.loads(line) for line in gzip.decompress(file.read_bytes()).decode().splitlines())

    def moved(ms: int) -> int:
        start, at = max((s for s in sessions if s[0] <= ms), default=sessions[0], key=lambda s: s[0])
        return int(at.timestamp() * 1000) + (ms - start)

    by_day = {}
    for record in records:
        if record["record"] == "event":
            record["event"]["time"] = moved(record["event"]["time"])
            for o in record.get("observations", []):
                o["time"] = moved(o["time"])
            t = record["event"]["time"]
        elif record["record"] == "facts":
            for o in record["observations"]:
                o["time"] = moved(o["time"])
            t = record["observations"][0]["time"]
        else:
            record["from"], record["to"] = moved(record["from"]), moved(record["to"])
            t = record["from"]
        by_day.setdefault(datetime.fromtimestamp(t / 1000, timezone.utc).date(), []).append((t, record))

    out = EXAMPLE / "spool"
    shutil.rmtree(out, ignore_errors=True)
    for seq, (day, items) in enumerate(sorted(by_day.items()), start=1):
        items.sort(key=lambda i: i[0])
        (out / day.isoformat()).mkdir(parents=True)
        name = f"{NODE}-{items[0][0]}-{seq:06}.jsonl.gz"
        text = "".join(json.dumps(record, separators=(",", ":")) + "\n" for _, record in items)
        # mtime 0: the same records give the same bytes.
        (out / day.isoformat() / name).write_bytes(gzip.compress(text.encode(), mtime=0))
    for path in sorted(cgroups.values(), key=lambda p: -len(p.parts)):
        path.rmdir()
        try:
            path.parent.rmdir()
        except OSError:
            pass
    for leftover in [kubepods / "burstable", kubepods]:
        try:
            leftover.rmdir()
        except OSError:
            pass
    shutil.rmtree(work)
    print(f"{len(records)} records in {len(by_day)} files under {out.relative_to(REPO)}")


main()
