/** The one error root: every error is a WandError whose exit class decides the exit code. */
import { exitCodeOf, UsageError, WandError } from '../../src/errors';
import { KubeError, mapKubectlFailure, NotFound, UnknownResourceType } from '../../src/kube/errors';
import { USAGE } from '../../src/remedies';
import { AgentError, InvalidTarget, NoPods } from '../../src/session/errors';
import { parseTarget } from '../../src/session/targets';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('the error root', () => {
  it('holds the kubectl errors, the engine errors and the usage errors', () => {
    for (const error of [
      mapKubectlFailure(['get', 'pods'], 1, 'Error from server (NotFound): pods "x" not found'),
      new NoPods('app=web', 'shop', undefined),
      new AgentError('timeout', 'blocked'),
      new UsageError('bad'),
    ]) {
      expect(error).toBeInstanceOf(WandError);
    }
    expect(mapKubectlFailure(['get', 'pods'], 1, 'Error from server (NotFound): pods "x" not found')).toBeInstanceOf(KubeError);
  });

  it('gives each error a stable code', () => {
    expect(new NotFound('pods', 'x', 'shop').code).toBe('NotFound');
    expect(new AgentError('no-debugpy', 'no debugpy').code).toBe('no-debugpy');
    expect(new UsageError('bad').code).toBe('UsageError');
  });

  it('exits 2 for usage mistakes: a malformed or missing target, a bad flag value', () => {
    for (const target of [{}, { target: 'foo/bar' }, { target: 'svc/' }, { target: 'svc/a/b' }, { selector: ' ' }, { target: 'x', selector: 'a=b' }]) {
      const error = thrownBy(() => parseTarget(target));
      expect(error).toBeInstanceOf(WandError);
      expect({ target, exit: exitCodeOf(error) }).toEqual({ target, exit: 2 });
    }
    expect(thrownBy(() => parseTarget({}))).toBeInstanceOf(InvalidTarget);
    expect(new UsageError('--port must be …').remedy).toBe(USAGE);
    expect(exitCodeOf(new UsageError('--port must be …'))).toBe(2);
  });

  it('exits 1 for every other failure, the cluster not knowing a resource type included', () => {
    const unknownToCluster = mapKubectlFailure(['get', 'foos'], 1, `error: the server doesn't have a resource type "foos"`);
    expect(unknownToCluster).toBeInstanceOf(UnknownResourceType);
    expect(exitCodeOf(unknownToCluster)).toBe(1);
    expect(exitCodeOf(new NoPods('app=web', 'shop', undefined))).toBe(1);
    expect(exitCodeOf(new AgentError('internal', 'boom'))).toBe(1);
    expect(exitCodeOf(new Error('a bug'))).toBe(1);
    expect(exitCodeOf('not even an Error')).toBe(1);
  });
});
