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
    onSuccess: () => afterFirstResult(offline),
    onFailure: (error) => {
      const boot = el('boot');
      if (boot) boot.dataset.state = 'failed';
      set(`Quiver could not start: ${error?.message ?? error}. Reload the page to try again; a browser with WebAssembly is needed.`, 0);
    },
  };
}

/**
 * Run `f` once the first MC result is on the page (#mc-summary), or after 5 s: the service
 * worker's install downloads the whole shell again, which on a first visit competed with the app's
 * own start (first result 0.6–0.9 s without it, 0.8–1.2 s with it, on the 2-core test machine).
 */
function afterFirstResult(f) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    observer.disconnect();
    clearTimeout(timer);
    f();
  };
  const observer = new MutationObserver(() => {
    if (document.getElementById('mc-summary')) run();
  });
  observer.observe(document.body, { childList: true, subtree: true });
  const timer = setTimeout(run, 5000);
  if (document.getElementById('mc-summary')) run();
}

/**
 * The offline copy (sw.js, written at build time by tools/sw.mjs): registered once the app runs.
 * When a newer build's worker has installed beside the one in charge, a note offers to reload
 * into it. Where a browser has no service workers (an insecure origin, some sandboxes), nothing
 * happens: the site works online as before.
 */
function offline() {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
  });
  const offer = (worker) => {
    if (!navigator.serviceWorker.controller || document.getElementById('update-note')) return;
    const note = document.createElement('div');
    note.id = 'update-note';
    note.className = 'update-note';
    note.setAttribute('role', 'status');
    const text = document.createElement('span');
    text.textContent = 'A new version of Quiver is ready. ';
    const button = document.createElement('button');
    button.id = 'update-reload';
    button.textContent = 'reload';
    button.addEventListener('click', () => {
      reloading = true;
      worker.postMessage('activate');
    });
    note.append(text, button);
    document.body.append(note);
  };
  navigator.serviceWorker.register('./sw.js').then((reg) => {
    if (reg.waiting) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => {
        if (w.state === 'installed') offer(w);
      });
    });
  }).catch(() => {});
}
