export { type CudaNativeBackend, type CudaRunInfo, cudaNative, type ProfileOptions, type ProfileResult } from './backend.js';
export type { HostNativeArgs, NativeArgs, NativeBinding, NativeBuildInfo, NativeOperand, NativePlan, NativeProbe } from './binding.js';
export { expectedKernel, KERNEL_NAMES } from './check.js';
export {
  BUILD_COMMAND,
  buildStatusReason,
  candidateBinaries,
  checkInChild,
  LOCAL_BINARY,
  loadBinding,
  platformPackage,
  platformTag,
} from './loader.js';
export { type CudaNativeOptions, PRECISIONS, type Precision } from './options.js';
export { hasTopk, packMasks, packRequest } from './pack.js';
export type { CudaResidentRequest } from './resident.js';
export { CudaTensor, isCudaTensor } from './tensor.js';
export { NOMINAL_MAGNITUDES, requestMagnitudes, TOLERANCES, toleranceFor, UNIT_ROUNDOFF } from './tolerance.js';
export { toSparseError } from './translate.js';
export { viaResident } from './via-resident.js';
