/**
 * Just enough protobuf to read a SelfSubjectAccessReview: kubectl's typed clients POST it as
 * `application/vnd.kubernetes.protobuf` (magic `k8s\0`, then a runtime.Unknown wrapping the object).
 */

/** the length-delimited fields of one message, by field number (other wire types are skipped) */
function fields(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated protobuf');
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const wireType = key & 7;
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = varint();
      out.set(Math.floor(key / 8), buf.subarray(pos, pos + length));
      pos += length;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
  return out;
}

const MAGIC = Buffer.from('k8s\0', 'latin1');

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

const ATTRIBUTE_FIELDS: Array<[number, keyof ResourceAttributes]> = [
  [1, 'namespace'], [2, 'verb'], [3, 'group'], [5, 'resource'], [6, 'subresource'], [7, 'name'],
];

/** spec.resourceAttributes of a protobuf SelfSubjectAccessReview; undefined when it has none */
export function accessReviewAttributes(body: Buffer): ResourceAttributes | undefined {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf message');
  const raw = fields(body.subarray(4)).get(2) ?? Buffer.alloc(0);
  const spec = fields(raw).get(2) ?? Buffer.alloc(0);
  const attributes = fields(spec).get(1);
  if (!attributes) return undefined;
  const values = fields(attributes);
  return Object.fromEntries(ATTRIBUTE_FIELDS.filter(([n]) => values.has(n)).map(([n, key]) => [key, values.get(n)!.toString('utf8')]));
}
