"""What a Python process's executable and command line say: interpreter names, options, version,
how kubectl-wand would inject it and why remote debugging is switched off."""

import os
import re
import sys

#: PYTHON_DISABLE_REMOTE_DEBUG and -X disable-remote-debug switch sys.remote_exec off in a process
DISABLE_ENV = 'PYTHON_DISABLE_REMOTE_DEBUG'
DISABLE_XOPTION = 'disable-remote-debug'
PYTHON_EXE_RE = re.compile(r'^python(\d+(\.\d+)?)?t?$')


def is_python_executable(path):
    if not path:
        return False
    name = os.path.basename(path)
    if name.endswith(' (deleted)'):
        name = name[:-len(' (deleted)')]
    return bool(PYTHON_EXE_RE.match(name))


# Interpreter options that take a value (the value may be glued: "-Xdev", "-Wignore").
_OPTIONS_WITH_VALUE = 'WX'
_LONG_OPTIONS_WITH_VALUE = ('--check-hash-based-pycs',)


def parse_python_options(argv):
    """(single-letter flags, -X options) of a Python command line, up to the script/-c/-m."""
    flags, xoptions = set(), []
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == '--' or arg == '-' or not arg.startswith('-'):
            break
        if arg.startswith('--'):
            if arg in _LONG_OPTIONS_WITH_VALUE:
                i += 1
            continue
        letters = arg[1:]
        stop = False
        for j, letter in enumerate(letters):
            if letter in 'cm':
                stop = True
                break
            if letter in _OPTIONS_WITH_VALUE:
                value = letters[j + 1:]
                if not value and i < len(args):
                    value = args[i]
                    i += 1
                if letter == 'X':
                    xoptions.append(value)
                break
            flags.add(letter)
        if stop:
            break
    return flags, xoptions


def remote_debug_disabled(environ, flags, xoptions):
    """(REMOTE_DEBUG_OFF_CODES code, why) when sys.remote_exec will be refused by this process, else None.

    Measured on 3.14: the variable disables remote debugging whatever its value (even empty),
    -E/-I make the interpreter ignore it, and only the hyphenated -X spelling counts.
    """
    if DISABLE_XOPTION in xoptions or any(x.startswith(DISABLE_XOPTION + '=') for x in xoptions):
        return 'x-option', 'started with -X %s' % DISABLE_XOPTION
    if environ is not None and DISABLE_ENV in environ and not (flags & set('EI')):
        return 'env', '%s is set in its environment' % DISABLE_ENV
    return None


def remote_debug_disabled_reason(environ, flags, xoptions):
    """Why sys.remote_exec will be refused by this process (remote_debug_disabled's text), or None."""
    disabled = remote_debug_disabled(environ, flags, xoptions)
    return disabled[1] if disabled else None


def version_tuple(version):
    try:
        return tuple(int(part) for part in version.split('.')[:3])
    except (AttributeError, ValueError):
        return None


#: the oldest Python the ptrace injector handles; from 3.14 on, sys.remote_exec does the work
OLDEST_PYTHON = (3, 9)
REMOTE_EXEC_PYTHON = (3, 14)


def too_old_reason(version):
    parts = version_tuple(version)
    if parts is not None and parts[:2] < OLDEST_PYTHON:
        return 'Python %s: kubectl-wand needs 3.9+ (3.9-3.13 through its ptrace injector, 3.14+ through ' \
               'sys.remote_exec)' % version
    return None


def injector_for(version):
    """How code gets into a process of this Python version: 'remote_exec' (3.14+), 'ptrace'
    (3.9-3.13) or None (older, or unknown)."""
    parts = version_tuple(version)
    if parts is None or parts[:2] < OLDEST_PYTHON:
        return None
    return 'remote_exec' if parts[:2] >= REMOTE_EXEC_PYTHON else 'ptrace'


def ptrace_refusal(environ, xoptions, machine=None):
    """(AgentErrorCode, why) when the ptrace injector must not inject a 3.9-3.13 process, else None.

    The app's opt-out is honoured whatever its interpreter options (-E/-I included): before 3.14 no
    interpreter check stands behind it, the variable is the app's only way to say no.
    """
    machine = machine or os.uname()[4]
    if machine != 'x86_64':
        return 'unsupported-arch', 'Python before 3.14 is injected with ptrace, on x86_64 only (this node: %s)' % machine
    if sys.version_info[:2] < OLDEST_PYTHON:
        return 'unsupported-python', "the container's python3 is %d.%d: kubectl-wand's agent needs 3.9+ to inject " \
                                     'Python before 3.14' % tuple(sys.version_info[:2])
    disabled = remote_debug_disabled(environ, set(), xoptions)
    if disabled:
        return 'remote-debug-disabled', disabled[1]
    return None
