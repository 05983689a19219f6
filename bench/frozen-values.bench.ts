/**
 * Why L1 values are frozen once rather than copied per hit (libs/stampede-cache/src/tiers/l1/frozen-values.ts).
 * In memory, on values shaped like the app's: a user profile and a 100-row leaderboard.
 *   npm run bench:freeze          (HITS=200000 ROUNDS=3)
 * Baseline in the same run: a bare hit (the shared reference, what L1 returned before). Prints
 * the cost per hit of each policy and the ratio; writes <BENCH_OUT or docs/benchmarks>/frozen-values.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalValue, deepFreeze } from '@app/stampede-cache/testing';
import { benchOutDir, environment } from './bench-env';

const HITS = Number(process.env.HITS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const profile = () => ({ id: 'u-1', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', points: 42, position: 1234 });
const board = () => ({
  window: '24h',
  computedAt: '2026-12-07T00:00:00.000Z',
  rows: Array.from({ length: 100 }, (_, i) => ({ userId: `u-${i}`, name: `User ${i}`, points: 1000 - i })),
});

/** ns per operation of `op`, median of ROUNDS rounds of `n` operations. */
function time(n: number, op: () => unknown): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += op() === undefined ? 0 : 1;
    rounds.push(Number(process.hrtime.bigint() - start) / n);
  }
  if (sink < 0) console.log(sink);
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

const results = [profile, board].map((make) => {
  const shared = make();
  const frozen = deepFreeze(make());
  const bare = time(HITS, () => shared);
  const frozenHit = time(HITS, () => frozen);
  const copyHit = time(HITS / 10, () => structuredClone(shared));
  const freezeOnce = time(HITS / 10, () => canonicalValue(make()).value);
  return { value: make.name, bareHitNs: bare, frozenHitNs: frozenHit, copyPerHitNs: copyHit, canonicaliseOncePerWriteNs: freezeOnce };
});

console.log(`\nL1 value immutability: ${HITS} hits, ${ROUNDS} rounds (median)\n`);
console.log('  value      bare hit   frozen hit   copy per hit   canonicalise+freeze once per write');
for (const r of results) {
  console.log(
    `  ${r.value.padEnd(8)} ${r.bareHitNs.toFixed(1).padStart(8)} ns ${r.frozenHitNs.toFixed(1).padStart(9)} ns ` +
      `${r.copyPerHitNs.toFixed(0).padStart(11)} ns ${r.canonicaliseOncePerWriteNs.toFixed(0).padStart(12)} ns`,
  );
  console.log(
    `           copy per hit / frozen hit: ${(r.copyPerHitNs / r.frozenHitNs).toFixed(0)}x; ` +
      `one write's canonicalisation = ${(r.canonicaliseOncePerWriteNs / r.copyPerHitNs).toFixed(1)} copies`,
  );
}
writeFileSync(
  join(benchOutDir(), 'frozen-values.json'),
  JSON.stringify({ environment: environment(), hits: HITS, rounds: ROUNDS, results }, null, 2),
);
