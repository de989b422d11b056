// Trunk initializer (index.html's data-initializer): the loading indicator that index.html paints
// first, driven while the app's wasm downloads and starts. Text only (no HTML is built here).
const el = (id) => document.getElementById(id);
const mb = (n) => (n / 1e6).toFixed(1);

export default function initializer() {
  const set = (what, value) => {
    const w = el('boot-what');
    if (w) w.textContent = what;
    const p = el('boot-progress');
    if (p) {
      if (value === null) p.removeAttribute('value');
      else p.value = value;
    }
  };
  return {
    onStart: () => set('Loading the app (the models run in this page)…', null),
    onProgress: ({ current, total }) => {
      if (total > 0) set(`Loading the app: ${mb(current)} of ${mb(total)} MB`, current / total);
      else set(`Loading the app: ${mb(current)} MB`, null);
    },
    onComplete: () => set('Starting…', 1),
    onSuccess: () => {},
    onFailure: (error) => {
      const boot = el('boot');
      if (boot) boot.dataset.state = 'failed';
      set(`Quiver could not start: ${error?.message ?? error}. Reload the page to try again; a browser with WebAssembly is needed.`, 0);
    },
  };
}
