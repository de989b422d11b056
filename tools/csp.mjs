// Run by the Trunk post-build hook (tools/post-build.mjs): writes the site's Content-Security-Policy into
// the built index.html, as a <meta> before any script.
//
// Trunk starts the wasm with an inline <script type="module">; its text changes with every build
// (it names the hashed file), so the policy allows exactly that script by its SHA-256 rather than
// with 'unsafe-inline'. Everything else comes from the site itself: no remote origin anywhere,
// fetches only to 'self', WebAssembly compiled with 'wasm-unsafe-eval' (not 'unsafe-eval').
//
// Usage: node tools/csp.mjs [index.html]   (default: $TRUNK_STAGING_DIR/index.html)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The policy for a page whose inline scripts have these texts. */
export function policy(inlineScripts) {
  const hashes = inlineScripts.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
    // plotly inserts its own <style> element and Leptos/plotly set style attributes.
    "style-src 'self' 'unsafe-inline'",
    // data: for the empty favicon and plotly's PNG export; blob: for downloads.
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** index.html with the policy's <meta> inserted after <meta charset> (replacing an older one). */
export function withPolicy(html) {
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy(inline)}">`;
  const cleaned = html.replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
  const charset = cleaned.match(/<meta charset[^>]*>/i);
  if (!charset) throw new Error('csp: index.html has no <meta charset>, so the policy has no place before the scripts');
  const at = charset.index + charset[0].length;
  return `${cleaned.slice(0, at)}\n    ${meta}${cleaned.slice(at)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? join(process.env.TRUNK_STAGING_DIR ?? 'dist', 'index.html');
  writeFileSync(file, withPolicy(readFileSync(file, 'utf8')));
  console.log(`csp: policy written into ${file}`);
}
