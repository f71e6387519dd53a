#!/usr/bin/env python3
"""Writes a synthetic CloudTrail corpus for benchmarks: N records in gzip log files of
about 2,000 records each (a busy account's five-minute delivery), in the trail layout,
with the mix of a real account: S3 data events, model calls, Lambda invokes, IAM and STS.

    scripts/gen-trail-corpus.py OUT_DIR [RECORDS]     (default 1,000,000; deterministic)
"""
import gzip
import json
import os
import random
import sys

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
per_file = 2000
account = "111122223333"
rng = random.Random(7)


def identity(role, session):
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE{role.upper()}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}", "accountId": account,
            "accessKeyId": "ASIAEXAMPLEKEY", "sessionContext": {"sessionIssuer": {"type": "Role",
            "principalId": f"AROAEXAMPLE{role.upper()}", "arn": f"arn:aws:iam::{account}:role/{role}",
            "accountId": account, "userName": role}, "attributes": {"creationDate": "2026-10-06T00:00:00Z",
            "mfaAuthenticated": "false"}}}


def record(i, t):
    kind = rng.random()
    base = {"eventVersion": "1.09", "eventTime": t, "awsRegion": "us-east-1", "sourceIPAddress": "3.91.0.12",
            "userAgent": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux", "requestID": f"R{i:016X}",
            "eventID": f"e{i:011d}-0000-4000-8000-{i:012x}", "recipientAccountId": account,
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": "s3.us-east-1.amazonaws.com"}}
    if kind < 0.6:
        key = f"exports/{i % 5000}/part-{i:08d}.json"
        base.update({"userIdentity": identity("tools", "export-records"), "eventSource": "s3.amazonaws.com",
                     "eventName": rng.choice(["PutObject", "GetObject", "HeadObject"]),
                     "requestParameters": {"bucketName": "exports", "Host": "exports.s3.us-east-1.amazonaws.com", "key": key},
                     "responseElements": None, "readOnly": False, "eventType": "AwsApiCall", "managementEvent": False,
                     "eventCategory": "Data", "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::exports/{key}"},
                     {"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::exports"}]})
    elif kind < 0.8:
        ident = identity("agent-role", f"BedrockAgent-{i % 997}")
        ident["invokedBy"] = "bedrock.amazonaws.com"
        base.update({"userIdentity": ident, "eventSource": "bedrock.amazonaws.com", "eventName": "InvokeModel",
                     "requestParameters": {"modelId": "anthropic.claude-3-5-haiku-20241022-v1:0"}, "responseElements": None,
                     "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True, "eventCategory": "Management"})
    elif kind < 0.9:
        fn = f"arn:aws:lambda:us-east-1:{account}:function:tool-{i % 7}"
        base.update({"userIdentity": {"type": "AWSService", "invokedBy": "bedrock.amazonaws.com"},
                     "eventSource": "lambda.amazonaws.com", "eventName": "Invoke",
                     "requestParameters": {"functionName": fn, "sourceArn": f"arn:aws:bedrock:us-east-1:{account}:agent/AG{i % 13}"},
                     "responseElements": None, "readOnly": False, "eventType": "AwsApiCall", "managementEvent": False,
                     "eventCategory": "Data", "resources": [{"accountId": account, "type": "AWS::Lambda::Function", "ARN": fn}]})
    else:
        name = rng.choice(["GetRole", "ListRolePolicies", "AssumeRole", "GetCallerIdentity"])
        source = "sts.amazonaws.com" if name in ("AssumeRole", "GetCallerIdentity") else "iam.amazonaws.com"
        base.update({"userIdentity": identity("ci-deployer", f"run-{i % 50}"), "eventSource": source, "eventName": name,
                     "requestParameters": {"roleName": f"role-{i % 40}"}, "responseElements": None, "readOnly": True,
                     "eventType": "AwsApiCall", "managementEvent": True, "eventCategory": "Management"})
    return base


def create_agent(i, t, agent):
    """The control-plane records that let attribution tie the traffic above to agents."""
    admin = {"type": "IAMUser", "principalId": "AIDAADMIN", "arn": f"arn:aws:iam::{account}:user/admin", "accountId": account}
    common = {"eventVersion": "1.08", "userIdentity": admin, "eventTime": t, "awsRegion": "us-east-1",
              "sourceIPAddress": "198.51.100.24", "userAgent": "aws-cli/2.17.0", "eventSource": "bedrock.amazonaws.com",
              "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "eventCategory": "Management",
              "recipientAccountId": account}
    role = f"arn:aws:iam::{account}:role/agent-role" if agent == 0 else f"arn:aws:iam::{account}:role/agent-role-{agent}"
    yield dict(common, eventName="CreateAgent", requestID=f"C{i}", eventID=f"create-{agent}",
               requestParameters={"agentName": f"agent-{agent}", "foundationModel": "anthropic.claude-3-5-haiku-20241022-v1:0",
                                  "agentResourceRoleArn": role},
               responseElements={"agent": {"agentId": f"AG{agent}", "agentName": f"agent-{agent}", "agentResourceRoleArn": role,
                                           "foundationModel": "anthropic.claude-3-5-haiku-20241022-v1:0"}})
    yield dict(common, eventName="CreateAgentActionGroup", requestID=f"G{i}", eventID=f"group-{agent}",
               requestParameters={"agentId": f"AG{agent}", "actionGroupName": f"tool-{agent}",
                                  "actionGroupExecutor": {"lambda": f"arn:aws:lambda:us-east-1:{account}:function:tool-{agent}"}},
               responseElements=None)


written = 0
f = 0
while written < total:
    n = min(per_file, total - written)
    day = 1 + (f // 288) % 28
    minute = (f % 288) * 5
    t = f"2026-10-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
    d = os.path.join(out, f"AWSLogs/{account}/CloudTrail/us-east-1/2026/10/{day:02d}")
    os.makedirs(d, exist_ok=True)
    recs = [record(written + k, t) for k in range(n)]
    if f == 0:
        # Agents are created first; their records replace the first few of the count.
        setup = [r for a in range(7) for r in create_agent(a, t, a)]
        recs[:len(setup)] = setup
    body = json.dumps({"Records": recs}, separators=(",", ":")).encode()
    with open(os.path.join(d, f"{account}_CloudTrail_us-east-1_202610{day:02d}T{minute // 60:02d}{minute % 60:02d}Z_{f:08d}.json.gz"), "wb") as fh:
        fh.write(gzip.compress(body, compresslevel=6, mtime=0))
    written += n
    f += 1
print(f"{written} records in {f} files under {out}")
