// Written by scripts/build-wasm.mjs into dist/kernel-embedded.js (the SIMD128 kernels) and dist/kernel-relaxed-embedded.js
// (the relaxed-SIMD ones): the shared-memory and the single-threaded kernel, base64.
export declare const KERNEL_SHARED: string;
export declare const KERNEL_SINGLE: string;
