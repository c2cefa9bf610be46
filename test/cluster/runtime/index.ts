export * from './types';
export { createNamespaceRuntime, type NamespaceRuntimeOptions } from './namespaceRuntime';
