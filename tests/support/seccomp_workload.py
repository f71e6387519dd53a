"""A tool process whose syscalls are recorded and then confined: it reads and digests a
file and lists a directory. With --mkdir DIR it also tries a syscall it never made while
recorded (mkdir) and prints what came of it."""
import hashlib
import os
import sys

data = open(sys.argv[1], "rb").read()
print("sha256", hashlib.sha256(data).hexdigest())
print("entries", len(os.listdir(os.path.dirname(sys.argv[1]))))
if len(sys.argv) > 3 and sys.argv[2] == "--mkdir":
    try:
        os.mkdir(sys.argv[3])
        print("mkdir: created")
    except PermissionError as e:
        print("mkdir: EPERM" if e.errno == 1 else f"mkdir: errno {e.errno}")
