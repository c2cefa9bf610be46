"""The ephemeral route: the agent runs in a debugger container that shares the app container's PID
namespace (kubectl debug --target), and works in the app's filesystem through /proc/PID/root.

serve(root_pid=1) chroots the agent into the root of the target container's first process, so
that everything the agent does names the app's own files: the injected script and its socket go
to the app's /tmp (the target opens them in its own mount namespace, python/cpython#143511), the
injector and the version probes run the app's interpreter with the app's libraries, and CPython's
injector finds the ELF files named in /proc/PID/maps where they are (Python/remote_debug.h opens
them in the caller's root). Processes of the debugger container itself (other agents) are left
out of every listing.
"""

import os

#: modules the agent imports lazily, loaded before the chroot (the app's image may have another
#: Python, or none of them)
PRELOADED = ('ctypes', 'errno', 'hashlib', 'io', 'shutil', 'socket', 'stat', 'subprocess', 'tempfile',
             'threading', 'traceback', 'zipfile', 'encodings.idna', 'json.decoder')


class _Route(object):
    #: our own mount namespace (the debugger container's) once chrooted, else None
    own_mnt = None


def enter_target_root(pid):
    """chroot into /proc/PID/root (needs CAP_SYS_CHROOT: containerd's default set has it)."""
    import importlib
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    own = os.readlink('/proc/self/ns/mnt')
    os.chroot('/proc/%d/root' % pid)
    os.chdir('/')
    _Route.own_mnt = own


def in_debugger_container(pid):
    """True for a process of the debugger container (it shares our mount namespace)."""
    if _Route.own_mnt is None:
        return False
    try:
        return os.readlink('/proc/%d/ns/mnt' % pid) == _Route.own_mnt
    except OSError:
        return False
