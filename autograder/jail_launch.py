"""Between the grader (root) and bubblewrap: build the jail's file system, drop root, exec.

The grader runs this file as ``python -I -S jail_launch.py SPEC`` when it is root.
``SPEC`` is JSON (see :func:`autograder.sandbox.Jail._launch_spec`). In order:

1. a private mount namespace, so that nothing mounted here is seen by the host
   or outlives the sandbox;
2. one tmpfs of ``size`` bytes, ``noexec``, ``nosuid``, ``nodev``, at ``root``:
   its folders ``work``, ``tmp`` and ``shm`` become the sandbox's working folder,
   ``/tmp`` and ``/dev/shm``, so that the working folder cannot hold executables,
   the sandbox's files have one size limit, and nothing of them lands on disk;
3. read-only bind mounts of ``stage`` folders (Python's, which may lie below a
   folder the jail's uid cannot enter, such as ``/root``) inside that tmpfs, for
   bubblewrap to bind from;
4. this process into the sandbox's cgroups, if any;
5. resource limits, then the jail's own host uid and gid, no supplementary groups;
6. death with the grader (``PR_SET_PDEATHSIG``), then ``exec`` of bubblewrap,
   which runs unprivileged from here on.

Any failure exits with status 121 and a one-line reason on standard error. This
file imports only the standard library and never runs student code.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
#: Exit status of a launch that failed before bubblewrap started.
LAUNCH_FAILED = 121


def _fail(what: str) -> None:
    errno = ctypes.get_errno()
    sys.stderr.write(f"jail: {what} failed ({os.strerror(errno) if errno else 'error'})\n")
    sys.stderr.flush()
    os._exit(LAUNCH_FAILED)


def main() -> None:
    spec = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    uid, gid = int(spec["uid"]), int(spec["gid"])
    root = spec["root"].encode()
    if libc.unshare(CLONE_NEWNS) != 0:
        _fail("a private mount namespace")
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        _fail("making mounts private")
    options = f"size={int(spec['size'])},mode=0711,nr_inodes={int(spec['inodes'])}".encode()
    if libc.mount(b"tmpfs", root, b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) != 0:
        _fail("the sandbox's tmpfs")
    for name in ("work", "tmp", "shm"):
        path = os.path.join(spec["root"], name)
        os.mkdir(path, 0o700)
        os.chown(path, uid, gid)
    os.mkdir(os.path.join(spec["root"], "stage"), 0o711)
    for index, source in enumerate(spec["stage"]):
        target = os.path.join(spec["root"], "stage", str(index)).encode()
        os.mkdir(target, 0o755)
        if libc.mount(source.encode(), target, None, MS_BIND | MS_REC, None) != 0:
            _fail(f"binding {source}")
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        if libc.mount(None, target, None, flags, None) != 0:
            _fail(f"making {source} read-only")
    for procs in spec["cgroups"]:
        try:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
        except OSError:
            _fail(f"joining {procs}")
    for name, value in spec["rlimits"].items():
        which = getattr(resource, name)
        try:
            resource.setrlimit(which, (int(value), int(value)))
        except (ValueError, OSError):
            pass
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        _fail("PR_SET_PDEATHSIG")
    if os.getppid() != int(spec["parent"]):
        os._exit(LAUNCH_FAILED)  # the grader is already gone
    argv = spec["argv"]
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
