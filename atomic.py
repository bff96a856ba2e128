"""
Output that is never half-written and never written by two processes at once.

Files that are either whole or absent: every file a script writes whole goes through atomic_path or
atomic_write, so a kill, a full disk or an error in the middle of a write leaves the previous file (or none),
never a half-written one (DESIGN.md section 3).
    atomic_write('meta.json', text)                   # str or bytes
    with atomic_path('ckpt.pt') as tmp:               # for anything that writes to a path: PyAV, savefig
        ...
One writer per output folder: hold_lock takes <folder>/.lock, a file that names its holder (pid, host, script,
time) and is locked with flock, so the lock of a killed process frees itself and a stale file is simply taken
over; a second writer is refused with a message naming the first.
    lock = hold_lock(out_dir, 'train.py')             # held until lock.close() or the process ends
"""
import errno
import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager

LOCK_NAME = '.lock'

@contextmanager
def atomic_path(path):
    """A temporary name beside `path` (same folder, so the rename is atomic) that becomes `path` when the
    block ends without an error; on an error it is removed and `path` is untouched."""
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)

def atomic_write(path, data, encoding='utf-8'):
    """Write str (as UTF-8, newlines as given) or bytes to path, atomically."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            with open(tmp, 'w', encoding=encoding, newline='') as f:
                f.write(data)
        else:
            with open(tmp, 'wb') as f:
                f.write(data)

def lock_holder(path):
    """Who wrote a lock file: 'pid P on host H (script, since T)', or '?' if it cannot be read."""
    try:
        with open(path, encoding='utf-8') as f:
            who = json.load(f)
        return f"pid {who['pid']} on host {who['host']} ({who['what']}, since {who['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return '?'

def shared_holders(f):
    """True if the lock on f is held shared (shard jobs), which the holder's file does not name."""
    try:
        fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False
    fcntl.flock(f, fcntl.LOCK_UN)
    return True

def hold_lock(folder, what, name=LOCK_NAME, shared=False):
    """Locks <folder>/<name> for this process and returns the open lock file (closing it releases the lock;
    so does the end of the process, however it ends). shared=True takes a shared lock, which any number of
    processes hold together (prepare.py's shard jobs) and which keeps out an exclusive one. A lock that is
    taken is an error naming its holder."""
    path = os.path.join(folder, name)
    try:
        os.makedirs(folder, exist_ok=True)
        f = open(path, 'a+', encoding='utf-8')
    except OSError as e:  # a file where the folder should be, a read-only disk, no permission
        raise SystemExit(f"{folder} cannot be written: {e.strerror} ({e.filename})") from None
    try:
        fcntl.flock(f, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError as e:
        # Lustre mounted without flock, NFS without lockd
        if e.errno in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP):
            print(f"warning: {path}: this file system cannot lock ({e.strerror}); {what} runs unlocked: "
                  "make sure no other process writes this folder", file=sys.stderr)
            return f
        if e.errno not in (errno.EWOULDBLOCK, errno.EACCES):
            f.close()
            raise
        holder = lock_holder(path)
        if not shared and shared_holders(f):
            holder = "shard jobs of prepare.py"
        if shared or holder == '?':
            holder = 'another process'
        f.close()
        raise SystemExit(f"{folder} is in use: {path} is held by {holder}. One process writes an output "
                         "folder at a time; wait for it to finish, or pick another output folder. (The lock "
                         "frees itself when its holder ends, even if it is killed.)") from None
    if not shared:  # the holder's name, for the message a second writer gets
        f.seek(0)
        f.truncate()
        f.write(json.dumps(dict(pid=os.getpid(), host=socket.gethostname(), what=what,
                                since=time.strftime('%Y-%m-%d %H:%M:%S'))))
        f.flush()
    return f
