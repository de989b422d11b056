// Builds public/vendor/plotly-quiver.min.js: plotly.js with only the traces Quiver draws
// (scatter, bar, box), minified, as one classic script that defines `Plotly`.
//
//   cd tools/plotly-bundle && npm ci && node build.cjs
//
// plotly.js and esbuild are dev-dependencies of this tool only; the site ships the built file.
// The options follow plotly.js's own esbuild-config.js (iife, global `Plotly`, es2016).
const { readFileSync } = require('node:fs');
const path = require('node:path');

const version = JSON.parse(readFileSync(require.resolve('plotly.js/package.json'), 'utf8')).version;
require('esbuild')
  .build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: path.join(__dirname, '../../public/vendor/plotly-quiver.min.js'),
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    target: 'es2016',
    legalComments: 'none',
    // registry.js imports maplibre's stylesheet for map traces, which Quiver does not draw.
    loader: { '.css': 'empty' },
    banner: {
      js: `/**\n* plotly.js v${version} (core + bar + box, built by tools/plotly-bundle)\n* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license (vendor/plotly-LICENSE.txt)\n*/`,
    },
    logLevel: 'warning',
  })
  .catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
