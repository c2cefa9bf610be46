/** What kubectl_complete-wand does (see ./completion): the spec from the parser, kubectl as the lister. */
import type { Argv } from 'yargs';
import { complete, formatCompletion } from './completion';
import { kubectlLister } from './completion-lister';
import { specFromParser } from './completion-spec';

/** kubectl_complete-wand: prints the completion of `kubectl wand WORDS…`. */
export async function runCompletion(words: string[], parser: Argv<unknown>): Promise<number> {
  const completion = await complete(words, specFromParser(parser), kubectlLister());
  process.stdout.write(formatCompletion(completion));
  return 0;
}
