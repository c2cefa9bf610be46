/** Label selectors (the `-l` string and the LabelSelector object) and the few field selectors served. */
import type { KubeObject, LabelSelector } from './objects';

export type Requirement =
  | { key: string; op: 'exists' | 'notExists' }
  | { key: string; op: 'in' | 'notIn'; values: string[] };

export class SelectorError extends Error {}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`);

/** Splits on the commas that separate requirements, not those inside `in (a,b)`. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(text: string): Requirement {
  let m = EXISTS.exec(text);
  if (m) return { key: m[2], op: m[1] ? 'notExists' : 'exists' };
  m = EQUALITY.exec(text);
  if (m) return { key: m[1], op: m[2] === '!=' ? 'notIn' : 'in', values: [m[3]] };
  m = SET.exec(text);
  if (m) {
    const values = m[3].split(',').map((v) => v.trim());
    return { key: m[1], op: m[2] === 'in' ? 'in' : 'notIn', values };
  }
  throw new SelectorError(`unable to parse requirement: found '${text}', expected a label selector requirement`);
}

export function parseLabelSelector(text: string): Requirement[] {
  return splitRequirements(text).map(parseRequirement);
}

export function requirementsOf(selector: LabelSelector): Requirement[] {
  const fromLabels: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: 'in',
    values: [value],
  }));
  const fromExpressions = (selector.matchExpressions ?? []).map((e): Requirement => {
    switch (e.operator) {
      case 'In':
        return { key: e.key, op: 'in', values: e.values ?? [] };
      case 'NotIn':
        return { key: e.key, op: 'notIn', values: e.values ?? [] };
      case 'Exists':
        return { key: e.key, op: 'exists' };
      case 'DoesNotExist':
        return { key: e.key, op: 'notExists' };
    }
  });
  return [...fromLabels, ...fromExpressions];
}

export function matchesRequirements(requirements: Requirement[], labels: Record<string, string> = {}): boolean {
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notExists':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]);
      case 'notIn':
        return !has || !r.values.includes(labels[r.key]);
    }
  });
}

/** True when the labels match; an empty selector matches everything (as for Deployments). */
export function matchesLabelSelector(selector: LabelSelector | string, labels?: Record<string, string>): boolean {
  const requirements = typeof selector === 'string' ? parseLabelSelector(selector) : requirementsOf(selector);
  return matchesRequirements(requirements, labels);
}

/** The form kubectl prints in SELECTOR columns: `app=api,tier in (a,b)`. */
export function formatLabelSelector(selector: LabelSelector): string {
  const text = requirementsOf(selector)
    .map((r) => {
      if (!('values' in r)) return r.op === 'exists' ? r.key : `!${r.key}`;
      if (r.values.length === 1 && r.op === 'in') return `${r.key}=${r.values[0]}`;
      return `${r.key} ${r.op === 'in' ? 'in' : 'notin'} (${r.values.join(',')})`;
    })
    .join(',');
  return text || '<none>';
}

const FIELDS: Record<string, (o: KubeObject) => string> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
  'status.phase': (o) => (o.kind === 'Pod' || o.kind === 'Namespace' ? o.status.phase : ''),
  'spec.nodeName': (o) => (o.kind === 'Pod' ? o.spec.nodeName ?? '' : ''),
};

export type FieldMatcher = (o: KubeObject) => boolean;

/** `metadata.name=x,status.phase!=Failed`; unknown fields are an error as on a real server. */
export function parseFieldSelector(text: string): FieldMatcher {
  const tests = text
    .split(',')
    .filter((p) => p.trim() !== '')
    .map((part) => {
      const m = /^\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
      const [, field, op, value] = m;
      const read = FIELDS[field];
      if (!read) throw new SelectorError(`field label not supported: ${field}`);
      return (o: KubeObject) => (read(o) === value) === (op !== '!=');
    });
  return (o) => tests.every((t) => t(o));
}
