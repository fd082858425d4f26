// Entry points of the kernel module (see src/abi.ts for the call context).

export { PEAK_FLOPS_PER_ITER, peak } from './peak';
export { attend, prep, topk } from './phases';
