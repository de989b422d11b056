// Quiver's end-to-end suite: the built site (dist/) in headless Debian Chromium, driven by
// playwright-core, served by a local static server (tools/static-server.mjs) from a sub-path
// (/quiver/).
//
//   node tests/e2e/run.mjs [name filter…]      (QUIVER_DIST=path overrides ../../dist)
//
// The tests live in specs/, one file per area; harness.mjs holds the registry, the runner and the
// shared helpers. Every test opens a fresh browser context and fails on any console error,
// uncaught exception or request that leaves the local server's /quiver/ path, besides its own
// assertions. Failures leave a screenshot and a log (console, requests) in tests/e2e/test-results/.
// The exit status is non-zero when any test fails.
import { run } from './harness.mjs';

// Registration order is run order.
import './specs/load.spec.mjs';
import './specs/mc.spec.mjs';
import './specs/attacks.spec.mjs';
import './specs/datasets.spec.mjs';
import './specs/inputs.spec.mjs';
import './specs/url.spec.mjs';
import './specs/robustness.spec.mjs';
import './specs/course.spec.mjs';
import './specs/study.spec.mjs';
import './specs/worker.spec.mjs';
import './specs/bench.spec.mjs';

await run(process.argv.slice(2));
