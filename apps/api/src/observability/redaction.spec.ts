import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerParams } from './logging';
import { scrubText } from './redaction';

describe('log redaction', () => {
  it('masks passwords in URLs, bearer tokens, emails and configured secrets in free text', () => {
    const text = 'connect postgres://app:s3cret@db:5432/x as Ada@Example.com with Bearer abc.def and token-0123456789abcdef';
    expect(scrubText(text, ['token-0123456789abcdef'])).toBe(
      'connect postgres://app:[Redacted]@db:5432/x as [Redacted] with Bearer [Redacted] and [Redacted]',
    );
    expect(scrubText('redis://127.0.0.1:6379 and postgres://postgres@127.0.0.1/test')).toBe(
      'redis://127.0.0.1:6379 and postgres://postgres@127.0.0.1/test',
    );
  });

  it('censors secret and personal keys of logged objects, and scrubs messages and errors, through the app logger options', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const params = loggerParams({ LOG_LEVEL: 'log', LOG_FORMAT: 'json', ADMIN_TOKEN: 'admin-token-0123456789' }, { destination: sink });
    const [options, destination] = params.pinoHttp as [pino.LoggerOptions, Writable];
    const logger = pino(options, destination);

    logger.info({ headers: { authorization: 'Bearer admin-token-0123456789', cookie: 'sid=1' }, user: { email: 'ada@example.com' } }, 'hi');
    logger.info({ body: { firstName: 'Ada', lastName: 'Lovelace' } }, 'failed for ada@example.com with admin-token-0123456789');
    logger.error({ err: new Error('cannot reach postgres://app:s3cret@db/x') }, 'boom');
    logger.debug('below the level');

    const all = lines.join('');
    for (const leaked of ['admin-token-0123456789', 'sid=1', 'ada@example.com', '"Ada"', 'Lovelace', 's3cret'])
      expect(all).not.toContain(leaked);
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0])).toMatchObject({
      headers: { authorization: '[Redacted]', cookie: '[Redacted]' },
      user: { email: '[Redacted]' },
    });
    expect(JSON.parse(lines[2]).err.message).toBe('cannot reach postgres://app:[Redacted]@db/x');
  });
});
