// Written by scripts/build-wasm.mjs into dist/kernel-embedded.js: the two kernels, base64.
export declare const KERNEL_SHARED: string;
export declare const KERNEL_SINGLE: string;
