"""The ptrace injector as a command, for its tests: run code in the main thread of a process.

    python3.X ptrace_cli.py PID CODE [--repeat N] [--deadline S] [--run S] [--no-direct]

One JSON report per line. Finds the wand_agent package in the repository, or next to this file
(the tests copy both into another root filesystem).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', '..', '..', 'src', 'agent')]

from wand_agent.ptrace_inject import run_in_main_thread  # noqa: E402


def main(argv):
    import argparse
    import json
    parser = argparse.ArgumentParser(description='Run Python code in the main thread of a CPython 3.9-3.13 process.')
    parser.add_argument('pid', type=int)
    parser.add_argument('code')
    parser.add_argument('--deadline', type=float, default=10.0)
    parser.add_argument('--run', type=float, default=60.0)
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--no-direct', action='store_true')
    args = parser.parse_args(argv)
    ok = True
    for i in range(args.repeat):
        report = run_in_main_thread(args.pid, args.code.replace('{i}', str(i)), args.deadline, args.run,
                                    not args.no_direct)
        print(json.dumps(report, sort_keys=True))
        sys.stdout.flush()
        ok = ok and report['ok']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
