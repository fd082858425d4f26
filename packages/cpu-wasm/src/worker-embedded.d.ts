// Written by scripts/embed-worker.mjs into dist/worker-embedded.js: dist/worker.js bundled into one classic script.
export declare const WORKER_SOURCE: string;
