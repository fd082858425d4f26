export { type CudaNativeBackend, cudaNative, type ProfileOptions, type ProfileResult } from './backend.js';
export type { NativeArgs, NativeBinding, NativeBuildInfo, NativePlan, NativeProbe } from './binding.js';
export { toSparseError } from './errors.js';
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
export { type CudaNativeOptions, PRECISIONS, type Precision, TOLERANCES } from './options.js';
export { hasTopk, packRequest } from './pack.js';
