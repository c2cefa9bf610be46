/** --all-pods: local ports handed out in order, kept per pod, freed when a pod is dropped. */
import { LocalPorts } from '../../../src/select/local-ports';

describe('LocalPorts', () => {
  it('hands out ports in order from the first one, one per pod and worker', () => {
    const ports = new LocalPorts(5679);
    expect(ports.portFor('web-a', 0)).toBe(5679);
    expect(ports.portFor('web-b', 0)).toBe(5680);
    expect(ports.portFor('web-a', 1)).toBe(5681);
  });

  it('gives a pod the same port again (a reconnect keeps the editor configuration valid)', () => {
    const ports = new LocalPorts(5679);
    ports.portFor('web-a', 0);
    ports.portFor('web-b', 0);
    expect(ports.portFor('web-a', 0)).toBe(5679);
    expect(ports.portFor('web-b', 0)).toBe(5680);
  });

  it('frees a dropped pod\'s ports and reuses the lowest free one first', () => {
    const ports = new LocalPorts(5679);
    ports.portFor('web-a', 0);
    ports.portFor('web-a', 1);
    ports.portFor('web-b', 0);
    ports.release('web-a');
    expect(ports.portFor('web-c', 0)).toBe(5679);
    expect(ports.portFor('web-d', 0)).toBe(5680);
    expect(ports.portFor('web-e', 0)).toBe(5682);
  });

  it('does not free the ports of a pod whose name starts like the released one', () => {
    const ports = new LocalPorts(5679);
    ports.portFor('web-1', 0);
    ports.portFor('web-10', 0);
    ports.release('web-1');
    expect(ports.portFor('web-10', 0)).toBe(5680);
    expect(ports.portFor('web-2', 0)).toBe(5679);
  });

  it('0: every forward picks a free port itself', () => {
    const ports = new LocalPorts(0);
    expect(ports.portFor('web-a', 0)).toBe(0);
    expect(ports.portFor('web-b', 0)).toBe(0);
  });

  it('runs out above 65535', () => {
    const ports = new LocalPorts(65535);
    expect(ports.portFor('web-a', 0)).toBe(65535);
    expect(() => ports.portFor('web-b', 0)).toThrow(RangeError);
  });
});
