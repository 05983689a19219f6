import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdsOf } from './request-ids';

const request = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;
const response = () => {
  const headers: Record<string, string> = {};
  return { headers, res: { headersSent: false, setHeader: (n: string, v: string) => (headers[n] = v) } as unknown as ServerResponse };
};

describe('requestIdsOf', () => {
  it('keeps well-formed ids and echoes both', () => {
    const { headers, res } = response();
    expect(requestIdsOf(request({ 'x-request-id': 'a.B_c:1-2', 'x-correlation-id': 'flow-7' }), res)).toEqual({
      requestId: 'a.B_c:1-2',
      correlationId: 'flow-7',
    });
    expect(headers).toEqual({ 'X-Request-Id': 'a.B_c:1-2', 'X-Correlation-Id': 'flow-7' });
  });

  it.each([['with space'], ['x'.repeat(101)], [''], [['a', 'b']]])('replaces %j with a UUID; the correlation id follows it', (sent) => {
    const ids = requestIdsOf(request({ 'x-request-id': sent }));
    expect(ids.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids.correlationId).toBe(ids.requestId);
  });

  it('decides once per request', () => {
    const req = request({});
    expect(requestIdsOf(req)).toBe(requestIdsOf(req));
  });
});
