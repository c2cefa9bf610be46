/**
 * How the engine asks the user to pick when several pods or processes are equally good. The CLI
 * injects one (src/ui/chooser.ts prompts on a terminal); the engine never prompts by itself.
 */
import type { PodSummary } from '../select/choose';
import type { ClassifiedProcess } from '../select/roles';
import type { PodDetails } from './pod-details';

export interface Chooser {
  /** false when nobody can be asked (no terminal, CI): the engine then takes the recommended choice or fails precisely */
  readonly canAsk: boolean;
  /** `details`: by pod name, what each pod uses and runs (when it could be gathered) */
  pickPod(candidates: readonly PodSummary[], details?: ReadonlyMap<string, PodDetails>): Promise<PodSummary>;
  pickProcess(candidates: readonly ClassifiedProcess[]): Promise<ClassifiedProcess>;
}

/** Never asks: for callers without a user at hand (tests, scripts). */
export const NO_CHOOSER: Chooser = {
  canAsk: false,
  pickPod: () => Promise.reject(new Error('nobody to ask')),
  pickProcess: () => Promise.reject(new Error('nobody to ask')),
};
