/** What `kubectl wand stack` does once its arguments are parsed (the definition is in ./stack). */
import { runAgent } from '../session/agent-runner';
import { shortCommand } from '../select/describe';
import { agentFailure } from '../session/failures';
import { renderStack } from '../ui/stack-view';
import { oneProcessFor } from './context';
import type { StackArgs } from './stack';

const STACK_TIMEOUT_MS = 45_000;

export async function runStack(args: StackArgs): Promise<void> {
  const one = await oneProcessFor(args, { readOnly: true });
  const result = await runAgent(one.kubectl, one.agent, { op: 'stack', pid: one.process.pid }, { agentSource: one.agentSource, timeoutMs: STACK_TIMEOUT_MS }).catch(
    (error: unknown) => {
      throw agentFailure(error, one.context);
    },
  );
  if (args.output === 'json') {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const header = { pid: one.process.pid, command: shortCommand(one.process, 100), python: one.process.python, pod: one.context.pod, container: one.context.container };
  process.stdout.write(renderStack(result, header));
}
