/** The public surface of src/kube: everything that talks to a cluster goes through here. */
export * from './errors';
export * from './kubectl';
export * from './targets';
export * from './containers';
export * from './agent-runner';
export * from './port-forward';
export type * from './types';
