#!/usr/bin/env python3
"""Runs a command under a seccomp profile in the JSON that Docker, containerd and the
kubelet load, through libseccomp itself (ctypes, no bindings package): default action
and errno as the profile says, one allow rule per listed name (libseccomp resolves the
names, so agentward's own syscall table is not what is checked against), then exec.
    seccomp_run.py PROFILE.json -- COMMAND [ARGS...]
Exits 2 on a profile it cannot load (an action it does not know, a name libseccomp does
not know), never running the command unconfined."""
import ctypes
import ctypes.util
import json
import os
import sys

SCMP_ACT_ALLOW = 0x7FFF0000


def errno_action(errno: int) -> int:
    return 0x00050000 | (errno & 0xFFFF)


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: seccomp_run.py PROFILE.json -- COMMAND [ARGS...]")
    profile = json.loads(open(sys.argv[1]).read())
    command = sys.argv[3:]
    path = ctypes.util.find_library("seccomp")
    if not path:
        print("libseccomp is not installed (Debian: libseccomp2)", file=sys.stderr)
        sys.exit(2)
    lib = ctypes.CDLL(path, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    if profile.get("defaultAction") != "SCMP_ACT_ERRNO":
        print(f"unsupported defaultAction {profile.get('defaultAction')!r}", file=sys.stderr)
        sys.exit(2)
    if profile.get("architectures") != ["SCMP_ARCH_X86_64"]:
        print(f"unsupported architectures {profile.get('architectures')!r}", file=sys.stderr)
        sys.exit(2)
    ctx = lib.seccomp_init(errno_action(profile.get("defaultErrnoRet", 1)))
    if not ctx:
        sys.exit(2)
    for rule in profile["syscalls"]:
        if rule["action"] != "SCMP_ACT_ALLOW" or rule.get("args"):
            print(f"unsupported rule {rule!r}", file=sys.stderr)
            sys.exit(2)
        for name in rule["names"]:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                print(f"libseccomp does not know the syscall {name!r}", file=sys.stderr)
                sys.exit(2)
            rc = lib.seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)
            if rc != 0:
                print(f"seccomp_rule_add({name}): {os.strerror(-rc)}", file=sys.stderr)
                sys.exit(2)
    rc = lib.seccomp_load(ctx)
    if rc != 0:
        print(f"seccomp_load: {os.strerror(-rc)}", file=sys.stderr)
        sys.exit(2)
    os.execv(command[0], command)


main()
