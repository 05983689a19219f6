// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS CI script without types; its shape is stated below
const { evaluate } = require('../.ci/audit-check.js') as {
  evaluate: (report: unknown) => { reachable: boolean; failing: string[]; unfixable: string[] };
};

const finding = (name: string, severity: string, fixAvailable: unknown) => ({ name, severity, range: '<1.2.3', fixAvailable });

describe('.ci/audit-check.js', () => {
  it('fails on high and critical findings that have a fix, whatever kind of fix', () => {
    const result = evaluate({
      auditReportVersion: 2,
      vulnerabilities: {
        a: finding('a', 'high', true),
        b: finding('b', 'critical', { name: 'b', version: '2.0.0', isSemVerMajor: true }),
        c: finding('c', 'moderate', true),
        d: finding('d', 'low', true),
      },
    });
    expect(result.reachable).toBe(true);
    expect(result.failing).toEqual(['a (high, <1.2.3; fix: npm audit fix)', 'b (critical, <1.2.3; fix: b@2.0.0 (major))']);
  });

  it('lists, without failing, serious findings that have no fix yet', () => {
    const result = evaluate({ vulnerabilities: { x: finding('x', 'critical', false) } });
    expect(result).toEqual({ reachable: true, failing: [], unfixable: ['x (critical, <1.2.3; no fix yet)'] });
  });

  it('passes a clean report', () => {
    expect(evaluate({ auditReportVersion: 2, vulnerabilities: {} })).toEqual({ reachable: true, failing: [], unfixable: [] });
  });

  it('recognises an unreachable advisory endpoint (npm prints an error object instead of a report)', () => {
    expect(
      evaluate({ message: '405 Method Not Allowed - POST https://registry/-/npm/v1/security/advisories/bulk', statusCode: 405 }).reachable,
    ).toBe(false);
    expect(evaluate(undefined).reachable).toBe(false);
  });
});
