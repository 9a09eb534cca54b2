import { carriedHeaders, contentKind, headerText } from '../../../processors/codec/headers';
import { TerminalError } from '../../../processors/errors';

describe('record headers', () => {
  test('a header name matches case-insensitively; the first value counts', () => {
    expect(headerText({ 'Content-Type': Buffer.from('application/json') }, 'content-type')).toBe('application/json');
    expect(headerText({ 'CONTENT-TYPE': ['application/json', 'text/plain'] }, 'content-type')).toBe('application/json');
    expect(headerText({ other: 'x' }, 'content-type')).toBeUndefined();
    expect(headerText(undefined, 'content-type')).toBeUndefined();
  });

  test('the content type is matched as a media type, parameters allowed', () => {
    for (const json of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', ' application/json ; foo=bar']) expect(contentKind(json)).toBe('json');
    for (const avro of [undefined, 'application/vnd.apache.avro+binary', 'text/plain', 'application/jsonx']) expect(contentKind(avro)).toBe('avro');
    expect(() => contentKind('application/json; charset=latin1')).toThrow(TerminalError);
  });

  test('the topology\'s headers are carried under their configured names, every value kept, others dropped', () => {
    const input = { TraceParent: '00-abc-def-01', tracestate: Buffer.from('k=v'), 'x-multi': ['a', 'b'], 'content-type': 'application/json' };
    expect(carriedHeaders(input, ['traceparent', 'tracestate', 'x-multi'])).toEqual({ traceparent: '00-abc-def-01', tracestate: Buffer.from('k=v'), 'x-multi': ['a', 'b'] });
    expect(carriedHeaders(input, [])).toEqual({});
    expect(carriedHeaders(undefined, ['traceparent'])).toEqual({});
  });
});
