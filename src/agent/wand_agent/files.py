"""Private directories for the injected script, cleanups that a session's end runs, and the
uploaded debugpy copy."""

import _thread
import base64
import os

from .events import AgentError

PRIVATE_DIR_BASES = ('/tmp', '/dev/shm', '/var/tmp')
#: sockaddr_un.sun_path holds 108 bytes including the NUL
MAX_SOCKET_PATH = 107


def visible_to_target(target, path):
    """True unless the target's root shows something else at `path` (another mount namespace)."""
    try:
        mine = os.stat(path)
        theirs = os.stat('/proc/%d/root%s' % (target.pid, path))
    except PermissionError:
        return True
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def private_dir_bases(target):
    bases = list(PRIVATE_DIR_BASES)
    if target.facts.cwd and target.facts.cwd.startswith('/') and target.facts.cwd not in bases:
        bases.append(target.facts.cwd)
    return bases


def give_to_target(path, target):
    """Let a target running as another uid use a file we (root) created for it."""
    if os.getuid() == 0 and target.fsuid != 0:
        os.chown(path, target.fsuid, target.fsgid)


def make_private_dir(target):
    """mkdtemp('wand-') in the first base that is writable, visible to the target, short enough."""
    import tempfile
    tried = []
    for base in private_dir_bases(target):
        try:
            path = tempfile.mkdtemp(prefix='wand-', dir=base)
        except OSError as exc:
            tried.append('%s (%s)' % (base, exc.strerror or exc))
            continue
        if len((path + '/status').encode()) > MAX_SOCKET_PATH or not visible_to_target(target, path):
            os.rmdir(path)
            tried.append('%s (not usable by the target)' % base)
            continue
        try:
            give_to_target(path, target)
        except OSError as exc:
            os.rmdir(path)
            tried.append('%s (cannot give it to uid %d: %s)' % (base, target.fsuid, exc.strerror or exc))
            continue
        return path
    raise AgentError('no-writable-dir', 'no writable directory for the injected script: tried ' + ', '.join(tried))


_cleanups_lock = _thread.allocate_lock()
#: cleanups of requests in flight: a session that ends runs them from the main thread
_cleanups = set()


class cleanup_after(object):
    """Run `cleanup` after the block, or before it ends if the session ends first (so: idempotent)."""

    def __init__(self, cleanup):
        self.cleanup = cleanup

    def __enter__(self):
        with _cleanups_lock:
            _cleanups.add(self.cleanup)

    def __exit__(self, *exc_info):
        with _cleanups_lock:
            _cleanups.discard(self.cleanup)
        self.cleanup()


def run_pending_cleanups():
    with _cleanups_lock:
        pending = list(_cleanups)
        _cleanups.clear()
    for cleanup in pending:
        try:
            cleanup()
        except Exception:
            pass


def remove_quietly(path, is_dir=False):
    try:
        if is_dir:
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def debugpy_copy(target, zip_b64, base):
    """Directory holding `debugpy/`, extracted once per content hash next to the private dir.

    It stays after the agent exits: the target imports from it for as long as it debugs. It is
    owned by the agent, world-readable and not writable by others, and reused only if it still is.
    """
    import hashlib
    import io
    import shutil
    import tempfile
    import zipfile
    data = base64.b64decode(zip_b64)
    final = os.path.join(base, 'wand-debugpy-' + hashlib.sha256(data).hexdigest()[:16])
    if trusted_debugpy_copy(final, target):
        return package_root(final)
    staging = tempfile.mkdtemp(prefix='wand-debugpy-tmp-', dir=base)
    in_use = []  # gets `staging` when the target is to import from it
    with cleanup_after(lambda: in_use or shutil.rmtree(staging, ignore_errors=True)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(staging)
        for root, dirs, files in os.walk(staging):
            os.chmod(root, 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        if package_root(staging) is None:
            raise AgentError('no-debugpy', 'the debugpy archive holds no debugpy/__init__.py')
        try:
            os.rename(staging, final)
        except OSError:
            # another agent won the race; use its copy if it is sound, else ours under a random name
            if not trusted_debugpy_copy(final, target):
                final = staging
                in_use.append(staging)
    return package_root(final)


def trusted_debugpy_copy(path, target):
    try:
        st = os.lstat(path)
    except OSError:
        return False
    import stat as stat_module
    return (stat_module.S_ISDIR(st.st_mode) and not st.st_mode & 0o022
            and st.st_uid in (0, os.getuid(), target.fsuid) and package_root(path) is not None)


def package_root(path):
    """The directory to put on sys.path: `path` or its single subdirectory holding debugpy/."""
    if os.path.isfile(os.path.join(path, 'debugpy', '__init__.py')):
        return path
    try:
        entries = [e for e in os.listdir(path) if os.path.isdir(os.path.join(path, e))]
    except OSError:
        return None
    for entry in entries:
        if os.path.isfile(os.path.join(path, entry, 'debugpy', '__init__.py')):
            return os.path.join(path, entry)
    return None
