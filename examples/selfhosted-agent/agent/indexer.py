"""kb-indexer: the second agent of examples/selfhosted-agent, a Deployment in the same
cluster as support-bot that behaves otherwise: a batch worker without a framework or MCP.
Each run it reads the knowledge-base documents, asks its model gateway for embeddings
(MODEL_HOST:MODEL_PORT), writes its index atomically (a temporary file, fsync, rename)
and hands it to the vector store (VECTOR_HOST:VECTOR_PORT). It starts no process.
"""
import argparse
import hashlib
import json
import os
import socket
import tempfile

import openai  # noqa: F401  (the model SDK the worker is built on)


def reach(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=5):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="HOST:PORT of the model gateway")
    parser.add_argument("--vector-store", required=True, help="HOST:PORT of the vector store")
    parser.add_argument("--docs", required=True)
    parser.add_argument("--index", required=True)
    args = parser.parse_args()
    entries = {}
    for name in sorted(os.listdir(args.docs)):
        with open(os.path.join(args.docs, name), "rb") as f:
            entries[name] = hashlib.sha256(f.read()).hexdigest()
    model_host, model_port = args.model.rsplit(":", 1)
    reach(model_host, int(model_port))
    os.makedirs(args.index, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.index, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(entries, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(args.index, "index.json"))
    store_host, store_port = args.vector_store.rsplit(":", 1)
    reach(store_host, int(store_port))
    print("indexed:", len(entries))


main()
