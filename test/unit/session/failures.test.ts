import { AgentError } from '../../../src/session/errors';
import { agentFailure, parseSyntaxError, remedyFor, type ProcessContext } from '../../../src/session/failures';
import { WandError } from '../../../src/errors';

const PREFIX = 'the code does not compile, nothing was run:\n';
const CTX: ProcessContext = { pod: 'api-1', namespace: 'shop', container: 'api', image: 'shop/api:1', pid: 8 };

// What Python 3.14's traceback.format_exception_only prints for these (recorded).
const REPORTS: Array<[string, string, { kind: string; message: string; line: number; column: number | null }]> = [
  ['print(', '  File "<wand-exec>", line 1\n    print(\n         ^\nSyntaxError: \'(\' was never closed', { kind: 'SyntaxError', message: "'(' was never closed", line: 1, column: 6 }],
  ['a b', '  File "<wand-exec>", line 1\n    a b\n      ^\nSyntaxError: invalid syntax', { kind: 'SyntaxError', message: 'invalid syntax', line: 1, column: 3 }],
  ['if True:\n    x = (1 +\n', '  File "<wand-exec>", line 2\n    x = (1 +\n        ^\nSyntaxError: \'(\' was never closed', { kind: 'SyntaxError', message: "'(' was never closed", line: 2, column: 9 }],
  ['x = 1\n  y = 2', '  File "<wand-exec>", line 2\n    y = 2\nIndentationError: unexpected indent', { kind: 'IndentationError', message: 'unexpected indent', line: 2, column: null }],
];

describe('parseSyntaxError', () => {
  it.each(REPORTS)('%j', (code, report, expected) => {
    expect(parseSyntaxError(PREFIX + report, code)).toEqual(expected);
  });

  it('is null for any other agent message', () => {
    expect(parseSyntaxError("module 'x' is not imported in the target process", 'x')).toBeNull();
  });
});

describe('agentFailure', () => {
  it('a syntax error: one line with line and column, the offending line as the hint', () => {
    const error = agentFailure(new AgentError('injected-code-failed', PREFIX + REPORTS[0]![1]), CTX, { text: 'print(', sourceName: '--code' }) as WandError;
    expect(error.message).toBe("syntax error in --code at line 1, column 6: '(' was never closed — nothing was injected");
    expect(error.remedy).toBe('fix line 1, column 6: print(');
  });

  it('keeps only the first line of an agent message (no Python traceback)', () => {
    const error = agentFailure(new AgentError('internal', 'agent failure: KeyError: x\nTraceback (most recent call last):\n  File …'), CTX) as WandError;
    expect(error.message).toBe('agent failure: KeyError: x');
    expect(error.remedy).toMatch(/WAND_DEBUG=1/);
  });

  it('passes other errors through', () => {
    const other = new Error('x');
    expect(agentFailure(other, CTX)).toBe(other);
  });
});

describe('remedyFor', () => {
  it('a timeout points at stack for that process', () => {
    expect(remedyFor(new AgentError('timeout', 'blocked'), CTX)).toContain('kubectl wand stack pod/api-1 -n shop --pid 8');
  });

  it('a missing --module names how to list modules', () => {
    expect(remedyFor(new AgentError('injected-code-failed', "module 'nope' is not imported in the target process"), CTX)).toContain('--module __main__');
  });

  it('remote debugging disabled by the environment', () => {
    expect(remedyFor(new AgentError('remote-debug-disabled', 'process 1: remote debugging is disabled: PYTHON_DISABLE_REMOTE_DEBUG is set in its environment'), CTX)).toMatch(
      /remove PYTHON_DISABLE_REMOTE_DEBUG/,
    );
  });
});
