#!/usr/bin/env node
/**
 * Runs `npm audit --omit=dev --json` and fails on any high or critical finding in a
 * production dependency that has a fix available (`npm audit fix` or an upgrade would
 * remove it). Findings without a fix are listed but do not fail: there is nothing to do
 * until upstream ships one. When the advisory endpoint cannot be reached (an offline or
 * mirrored registry), the check says so and passes, unless AUDIT_REQUIRED=1.
 */
'use strict';
const { spawnSync } = require('node:child_process');

const FAILING = new Set(['high', 'critical']);

/** Splits an npm audit v2 JSON report into findings that fail the build and those that cannot be fixed yet. */
function evaluate(report) {
  if (!report || typeof report !== 'object' || !report.vulnerabilities) return { reachable: false, failing: [], unfixable: [] };
  const serious = Object.values(report.vulnerabilities).filter((v) => FAILING.has(v.severity));
  const describe = (v) => `${v.name} (${v.severity}, ${v.range}${v.fixAvailable ? `; fix: ${fixText(v.fixAvailable)}` : '; no fix yet'})`;
  return {
    reachable: true,
    failing: serious.filter((v) => v.fixAvailable).map(describe),
    unfixable: serious.filter((v) => !v.fixAvailable).map(describe),
  };
}

function fixText(fix) {
  return fix === true ? 'npm audit fix' : `${fix.name}@${fix.version}${fix.isSemVerMajor ? ' (major)' : ''}`;
}

function main() {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    report = undefined;
  }
  const result = evaluate(report);
  if (!result.reachable) {
    const why = report?.message ?? (run.stderr || 'no JSON report').trim().split('\n')[0];
    console.log(`npm audit: advisory database not reachable (${why}); audit skipped`);
    return process.env.AUDIT_REQUIRED === '1' ? 1 : 0;
  }
  for (const line of result.unfixable) console.log(`npm audit: known, no fix available yet: ${line}`);
  for (const line of result.failing) console.log(`npm audit: FIX AVAILABLE: ${line}`);
  console.log(`npm audit: ${result.failing.length} high/critical finding(s) with a fix, ${result.unfixable.length} without`);
  return result.failing.length ? 1 : 0;
}

module.exports = { evaluate };
if (require.main === module) process.exit(main());
