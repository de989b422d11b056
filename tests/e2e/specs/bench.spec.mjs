// Bench mode (?bench=1): the timing report the benchmark runner (tools/bench.mjs) reads.
import assert from 'node:assert/strict';
import { test, open, waitFor, CPU_LABEL, DEFAULT_MODEL } from '../harness.mjs';

test('bench mode (?bench=1&device=cpu) reports JSON in #bench-result and on the console', async (t) => {
  const { page } = t;
  const logged = new Promise((ok) => page.on('console', (m) => m.text().startsWith('QUIVER_BENCH ') && ok(m.text())));
  await open(t, '?bench=1&device=cpu');
  await waitFor(page, 'a JSON report in #bench-result', () => document.querySelector('#bench-result')?.textContent.trim().startsWith('{'), null, 180_000);
  const r = JSON.parse(await page.textContent('#bench-result'));
  assert.equal(r.device, CPU_LABEL);
  assert.equal(r.model, DEFAULT_MODEL);
  assert.ok(Number.isInteger(r.runs) && r.runs > 0, `runs: ${r.runs}`);
  for (const k of ['forward_ms', 'mc_t50_ms', 'fgsm_ms', 'forward_round_trip_ms', 'mc_t50_round_trip_ms']) {
    const s = r[k];
    assert.ok(s && s.min >= 0 && s.min <= s.median && s.median <= s.max, `${k} is {min ≤ median ≤ max}: ${JSON.stringify(s)}`);
  }
  assert.ok(r.mc_t50_ms.median > 0, 'MC T=50 takes measurable time');
  // The worker's own time is part of each round trip, so no round trip is shorter.
  assert.equal(r.models_run, 'in a worker');
  for (const k of ['forward', 'mc_t50']) {
    assert.ok(r[`${k}_round_trip_ms`].min >= r[`${k}_ms`].min && r[`${k}_round_trip_ms`].median >= r[`${k}_ms`].median,
      `${k}: the page's round trip ${JSON.stringify(r[`${k}_round_trip_ms`])} includes the worker's time ${JSON.stringify(r[`${k}_ms`])}`);
  }
  assert.ok(r.transfer_bytes > 0 && r.decoded_bytes > 0, 'byte counts present');
  assert.ok(Array.isArray(r.resources) && r.resources.some(([n]) => n.endsWith('.wasm')), 'resources list the wasm module');
  const line = await Promise.race([logged, new Promise((_, no) => setTimeout(() => no(new Error('no QUIVER_BENCH console line')), 10_000))]);
  assert.deepEqual(JSON.parse(line.slice('QUIVER_BENCH '.length)), r, 'the console line carries the same JSON');
});
