import { defaultState, formatState, parseState, viewRequests } from '../../../processors/page/model/page-state';
import { colourOf } from '../../../processors/page/model/palette';
import { EventStreamParser } from '../../../processors/page/model/sse';
import { inputOfMicros, microsOfInput, timeText, valueText } from '../../../processors/page/model/values';

const uid = (n: number): string => n.toString(16).padStart(32, '0');

describe('the page state in the address fragment', () => {
  test('round-trips, without the token; malformed parts take their defaults', () => {
    const state = { ...defaultState, graph: 'acme-1', from: [uid(1), uid(2)], hops: 2, expanded: [uid(3)], slice: 40, diffFrom: 30, live: false, attributes: 'nodes' as const };
    expect(parseState(formatState(state))).toEqual(state);
    expect(formatState({ ...state, token: 'secret' })).not.toContain('secret');
    expect(parseState('#graph=g&token=secret').token).toBe('secret');
    expect(parseState('#graph=g&from=nope&hops=-1&limit=0&slice=x&live=yes')).toEqual({ ...defaultState, graph: 'g' });
    expect(parseState('')).toEqual(defaultState);
  });

  test('the view is read as the main subgraph, then one hop around each expanded node', () => {
    expect(viewRequests({ ...defaultState, type: 'Person', expanded: [uid(7)] })).toEqual([
      { type: 'Person', hops: 1, limit: 2000, attributes: 'labels' },
      { from: uid(7), hops: 1, limit: 2000, attributes: 'labels' },
    ]);
    expect(viewRequests({ ...defaultState, from: [uid(1), uid(2)], type: 'Person', hops: 3 })).toEqual([{ from: `${uid(1)},${uid(2)}`, hops: 3, limit: 2000, attributes: 'labels' }]);
    expect(viewRequests(defaultState)).toEqual([]);
  });
});

describe('the event stream parser', () => {
  test('events split across chunks and line endings, with ids, names, multi-line data, comments and retry', () => {
    const parser = new EventStreamParser();
    const text = 'retry: 1000\n\n: keep-alive\n\nid: 5\nevent: diff\ndata: {"slice":5}\n\nid: 6\r\nevent: diff\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: moved\ndata: gone\n\n';
    const events = [];
    for (let i = 0; i < text.length; i += 7) events.push(...parser.push(text.slice(i, i + 7)));
    expect(events).toEqual([
      { id: '5', event: 'diff', data: '{"slice":5}' },
      { id: '6', event: 'diff', data: '{"a":\n1}' },
      { id: '6', event: 'moved', data: 'gone' },
    ]);
    expect(parser.retryMs).toBe(1000);
    expect(parser.lastEventId).toBe('6');
  });
});

describe('values and colours', () => {
  test('values as the page shows them', () => {
    expect(valueText({ type: 'String', value: 'Ada' })).toBe('Ada');
    expect(valueText({ type: 'Enum', enum: 'DealStage', value: 'won' })).toBe('won');
    expect(valueText({ type: 'Quantity', unit: 'EUR', value: 25000 })).toBe('25,000 EUR');
    expect(valueText({ type: 'Time', value: 1_780_000_000_000_000 })).toBe('2026-05-28 20:26:40 UTC');
    expect(valueText({ type: 'Int', value: '9007199254740993' })).toBe('9007199254740993');
    expect(valueText(undefined)).toBe('(no value)');
    expect(timeText(1_780_000_000_123_000)).toBe('2026-05-28 20:26:40.123 UTC');
    expect(microsOfInput('2026-05-28T20:26:40')).toBe(1_780_000_000_000_000);
    expect(inputOfMicros(1_780_000_000_999_999)).toBe('2026-05-28T20:26:40');
    expect(microsOfInput('yesterday')).toBeUndefined();
  });

  test('a type has one colour, whatever the order types are met in', () => {
    expect(colourOf('Person')).toBe(colourOf('Person'));
    expect(new Set(['Person', 'Company', 'Deal'].map(colourOf)).size).toBe(3);
  });
});
