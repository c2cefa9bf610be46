/**
 * `--pod` as people type it: the full name, or enough of its start to tell it from the others
 * (`--pod web-7f9c` for web-7f9c5d-x2kq4). The exact name always wins, even when it is also the
 * start of another pod's name.
 */

export type PodNameMatch =
  | { kind: 'exact' | 'prefix'; name: string }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'none' };

export function matchPodName(names: readonly string[], typed: string): PodNameMatch {
  if (names.includes(typed)) return { kind: 'exact', name: typed };
  const candidates = [...new Set(names.filter((name) => typed.length > 0 && name.startsWith(typed)))].sort();
  if (candidates.length === 1) return { kind: 'prefix', name: candidates[0]! };
  if (candidates.length > 1) return { kind: 'ambiguous', candidates };
  return { kind: 'none' };
}
