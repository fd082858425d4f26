// Whether tf.js may use its threaded wasm build; a build whose minifier breaks it writes false here (projects.ts).
export const TFJS_THREADS = true;
