/** JsonDocuments: `kubectl get -w -o json` prints one JSON document after the other. */
import { JsonDocuments } from '../../../src/kube/lines';

describe('JsonDocuments', () => {
  it('splits one-line documents', () => {
    const docs = new JsonDocuments();
    expect(docs.push('{"type":"ADDED","object":{"a":1}}\n{"type":"DELETED","object":{}}\n')).toEqual(['{"type":"ADDED","object":{"a":1}}', '{"type":"DELETED","object":{}}']);
  });

  it('joins a document cut across chunks, indented or not', () => {
    const docs = new JsonDocuments();
    const text = '{\n    "type": "MODIFIED",\n    "object": {\n        "metadata": {"name": "web-1"}\n    }\n}\n';
    const got = [...docs.push(text.slice(0, 17)), ...docs.push(text.slice(17, 40)), ...docs.push(text.slice(40))];
    expect(got.map((d) => JSON.parse(d) as unknown)).toEqual([{ type: 'MODIFIED', object: { metadata: { name: 'web-1' } } }]);
  });

  it('is not fooled by braces and escaped quotes in strings', () => {
    const docs = new JsonDocuments();
    const doc = '{"object":{"command":"python3 -c \\"print({1: \'}\'})\\"","x":"\\\\"}}';
    expect(docs.push(`${doc.slice(0, 30)}`)).toEqual([]);
    expect(docs.push(`${doc.slice(30)}\n{"b":`)).toEqual([doc]);
    expect(docs.push('2}')).toEqual(['{"b":2}']);
  });
});
