import { matchPodName } from '../../../src/select/pod-prefix';

const PODS = ['web-7f9c5d-x2kq4', 'web-7f9c5d-b8m2z', 'web-6a1b2c-zz9k1', 'worker-1'];

describe('matchPodName', () => {
  it('takes the exact name', () => {
    expect(matchPodName(PODS, 'worker-1')).toEqual({ kind: 'exact', name: 'worker-1' });
  });
  it('prefers an exact name that is also the start of another', () => {
    expect(matchPodName(['web', 'web-2'], 'web')).toEqual({ kind: 'exact', name: 'web' });
  });
  it('completes a unique prefix', () => {
    expect(matchPodName(PODS, 'web-6')).toEqual({ kind: 'prefix', name: 'web-6a1b2c-zz9k1' });
    expect(matchPodName(PODS, 'web-7f9c5d-b')).toEqual({ kind: 'prefix', name: 'web-7f9c5d-b8m2z' });
  });
  it('lists the candidates of an ambiguous prefix, sorted', () => {
    expect(matchPodName(PODS, 'web-7f')).toEqual({ kind: 'ambiguous', candidates: ['web-7f9c5d-b8m2z', 'web-7f9c5d-x2kq4'] });
    expect(matchPodName(PODS, 'w')).toEqual({ kind: 'ambiguous', candidates: ['web-6a1b2c-zz9k1', 'web-7f9c5d-b8m2z', 'web-7f9c5d-x2kq4', 'worker-1'] });
  });
  it('matches nothing for a non-prefix, a middle part or an empty string', () => {
    expect(matchPodName(PODS, 'api')).toEqual({ kind: 'none' });
    expect(matchPodName(PODS, 'x2kq4')).toEqual({ kind: 'none' });
    expect(matchPodName(PODS, '')).toEqual({ kind: 'none' });
  });
  it('is case-sensitive, as pod names are lower case by rule', () => {
    expect(matchPodName(PODS, 'WEB-6')).toEqual({ kind: 'none' });
  });
});
