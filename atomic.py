"""
Files that are either whole or absent: every file a script writes whole goes through here, so a kill, a full
disk or an error in the middle of a write leaves the previous file (or none), never a half-written one
(DESIGN.md section 3).
    atomic_write('meta.json', text)                   # str or bytes
    with atomic_path('ckpt.pt') as tmp:               # for anything that writes to a path: torch.save,
        torch.save(state, tmp)                        # PyAV, savefig
"""
import os
from contextlib import contextmanager

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
