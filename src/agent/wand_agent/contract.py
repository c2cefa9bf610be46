"""Constants shared with src/agent/contract.ts (the contract test compares them).

TypeScript reads these values from contract.ts; change both together.
"""

#: Environment variables whose values are reported (never any other: they may hold secrets).
REPORTED_ENV = (
    'WERKZEUG_RUN_MAIN',
    'RUN_MAIN',
    'PYTHON_DISABLE_REMOTE_DEBUG',
    'SERVER_SOFTWARE',
)

#: AgentErrorCode: the `code` of error events and the `reasonCode` of process records.
ERROR_CODES = (
    'no-such-process',
    'not-python',
    'python-too-old',
    'remote-debug-disabled',
    'permission-denied',
    'no-writable-dir',
    'no-debugpy',
    'timeout',
    'injected-code-failed',
    'version-mismatch',
    'unsupported-arch',
    'unsupported-python',
    'not-ready',
    'internal',
)

#: TraceDenialCode: why the kernel will refuse to trace a process (doctor's `traceDeniedCode`).
TRACE_DENIAL_CODES = (
    'yama-scope-3',
    'yama-scope-2',
    'yama-scope-1',
    'other-uid',
    'other-gid',
    'more-capabilities',
    'proc-unreadable',
    'not-dumpable',
    'seccomp',
    'no-process-vm',
    'unknown',
)

#: RemoteDebugOffCode: how remote debugging is switched off in a process (doctor's
#: `remoteDebugDisabledCode`; a build without it is `remoteDebugBuild: false`).
REMOTE_DEBUG_OFF_CODES = (
    'x-option',
    'env',
)

#: ListRequest.sampleSeconds when absent
DEFAULT_SAMPLE_SECONDS = 0.2
#: once the payload said `started`, how long it may take to finish (debugpy.listen waits up to 30 s
#: for its adapter; user code may be slow): the CLI's exec waits this long too
MIN_RUN_SECONDS = 60.0
