/**
 * WebGPU's numeric flags, spelled out so the package never needs the GPUBufferUsage / GPUMapMode globals
 * (Node's `webgpu` package only installs them if asked to, and this package sets no globals).
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MAP_READ = 0x0001;
export const SHADER_STAGE_COMPUTE = 0x4;
