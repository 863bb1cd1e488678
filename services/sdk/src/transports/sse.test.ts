import { describe, expect, it } from 'vitest';
import { EventStreamParser, httpRefusalCode } from './sse.js';

function parse(chunks: string[]) {
  const out: Array<[string, string, string | undefined]> = [];
  const p = new EventStreamParser((t, d, id) => out.push([t, d, id]));
  for (const c of chunks) p.push(c);
  return out;
}

describe('event-stream parser', () => {
  it('parses events split anywhere, CRLF and CR line ends, comments and multi-line data', () => {
    const text = 'retry: 2000\r\nevent: welcome\r\ndata: {"a":1}\r\n\r\n: hb\n\nid: 7\nevent: notification\ndata: x\ndata: y\n\r\rdata:z\n\n';
    const whole = parse([text]);
    expect(whole).toEqual([
      ['welcome', '{"a":1}', undefined],
      ['notification', 'x\ny', '7'],
      ['message', 'z', '7'],
    ]);
    // Every split point gives the same events (a chunk may end between \r and \n).
    for (let i = 1; i < text.length; i++) expect(parse([text.slice(0, i), text.slice(i)])).toEqual(whole);
    expect(parse([...text])).toEqual(whole);
  });

  it('maps HTTP refusals to close-code classes', () => {
    expect(httpRefusalCode(401, 'AUTH_FAILED')).toBe(4500);
    expect(httpRefusalCode(503, 'SHUTDOWN')).toBe(4000);
    expect(httpRefusalCode(429, 'RATE_LIMITED')).toBe(4002);
    expect(httpRefusalCode(403, 'ORIGIN_NOT_ALLOWED')).toBe(4502);
    expect(httpRefusalCode(503, 'UNAVAILABLE')).toBe(4000);
    expect(httpRefusalCode(404, undefined)).toBe(1002);
  });
});
