// The compute worker's start (src/worker): the page posts the app's own compiled WebAssembly
// module and the URL of its wasm-bindgen glue; this instantiates that module here, with a memory
// of its own (no second download, no second compile), and hands over to the module's
// quiverWorkerStart, which answers the page's requests from then on.
self.onmessage = async (event) => {
  self.onmessage = null;
  const { glue, module } = event.data ?? {};
  try {
    const bindings = await import(glue);
    await bindings.default({ module_or_path: module });
    bindings.quiverWorkerStart();
  } catch (error) {
    self.postMessage({ msg: { Failed: `the compute worker could not start: ${error?.message ?? error}` } });
  }
};
