import { processRoute } from '../../../src/select/process-route';

const python = { isPython: true, debuggable: false, reasonCode: 'permission-denied' as const };

describe('processRoute', () => {
  it('a debuggable Python process: kubectl exec', () => {
    expect(processRoute({ isPython: true, debuggable: true, reasonCode: null })).toBe('exec');
  });
  it('refused by a cause a root debugger container with CAP_SYS_PTRACE gets past: ephemeral', () => {
    for (const code of ['yama-scope-1', 'yama-scope-2', 'other-uid', 'seccomp', 'not-dumpable'] as const) {
      expect(processRoute({ ...python, traceDeniedCode: code })).toBe('ephemeral');
    }
  });
  it('Yama scope 3, a kernel without process_vm_readv, or not a tracing refusal: neither', () => {
    expect(processRoute({ ...python, traceDeniedCode: 'yama-scope-3' })).toBeNull();
    expect(processRoute({ ...python, traceDeniedCode: 'no-process-vm' })).toBeNull();
    expect(processRoute({ ...python, traceDeniedCode: undefined })).toBeNull();
    expect(processRoute({ isPython: true, debuggable: false, reasonCode: 'python-too-old' })).toBeNull();
  });
  it('not Python: none', () => {
    expect(processRoute({ isPython: false, debuggable: false, reasonCode: 'not-python' })).toBeNull();
  });
});
