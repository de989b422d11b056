// Run by the Trunk post-build hook (tools/post-build.mjs) when QUIVER_GPU_DIST names a built copy
// of the site with the cargo feature `webgpu` (scripts/build-site.sh makes it first). Every visitor
// downloads the CPU build (Burn's Flex backend, about a fifth of the WebGPU build's size); the
// WebGPU build goes into dist/gpu/, and Trunk's start-up script is rewritten to choose at start:
// the WebGPU build only where `navigator.gpu` gives a hardware adapter (not the browser's software
// fallback), or where the URL asks for it (`device=webgpu`, which accepts any adapter); never with
// `device=cpu`. Both builds are the same app; the choice only decides whether WebGPU is there.
//
// Usage: QUIVER_GPU_DIST=target/dist-gpu node tools/variants.mjs [dist]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The wasm-bindgen module pair of a built site: `quiver-<hash>.js` and its `_bg.wasm`. */
export function modulePair(dir) {
  const wasm = readdirSync(dir).filter((f) => /^quiver-[0-9a-f]+_bg\.wasm$/.test(f));
  if (wasm.length !== 1) throw new Error(`variants: expected one quiver-*_bg.wasm in ${dir}, found ${wasm.length}`);
  const js = wasm[0].replace(/_bg\.wasm$/, '.js');
  if (!existsSync(join(dir, js))) throw new Error(`variants: ${dir}/${js} is missing`);
  return { js, wasm: wasm[0], size: statSync(join(dir, wasm[0])).size };
}

/**
 * Trunk's start-up script with the choice of build. `cpu` and `gpu` are module pairs; the
 * GPU one's files are under `gpu/`.
 */
export function withChoice(html, cpu, gpu) {
  const importLine = `import init, * as bindings from './${cpu.js}';`;
  const start = new RegExp(`const wasm = await __trunkInitializer\\(init, '\\./${cpu.wasm.replace(/[.]/g, '\\.')}', \\d+, `);
  if (!html.includes(importLine) || !start.test(html)) {
    throw new Error("variants: Trunk's start-up script is not as expected (did Trunk change it?)");
  }
  const choose = `// Which build (tools/variants.mjs): WebGPU only on a hardware adapter, or when asked for.
const __device = new URLSearchParams(location.search).get('device');
const __gpu = await (async () => {
  if (__device === 'cpu' || !navigator.gpu) return false;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return false;
    return __device === 'webgpu' || !(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false);
  } catch { return false; }
})();
const bindings = await import(__gpu ? './gpu/${gpu.js}' : './${cpu.js}');
const init = bindings.default;`;
  return html
    .replace(importLine, choose)
    .replace(start, `const wasm = await __trunkInitializer(init, __gpu ? './gpu/${gpu.wasm}' : './${cpu.wasm}', __gpu ? ${gpu.size} : ${cpu.size}, `);
}

/** Copy the GPU build's module into `dir/gpu/` and rewrite `dir/index.html`. */
export function addGpuVariant(dir, gpuDir) {
  const cpu = modulePair(dir);
  const gpu = modulePair(gpuDir);
  mkdirSync(join(dir, 'gpu'), { recursive: true });
  for (const f of [gpu.js, gpu.wasm]) copyFileSync(join(gpuDir, f), join(dir, 'gpu', f));
  const index = join(dir, 'index.html');
  writeFileSync(index, withChoice(readFileSync(index, 'utf8'), cpu, gpu));
  return `WebGPU build gpu/${gpu.wasm} (${gpu.size} bytes) beside the CPU build ${cpu.wasm} (${cpu.size} bytes)`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(addGpuVariant(process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist', process.env.QUIVER_GPU_DIST));
}
