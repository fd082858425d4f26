// @sparse/core/registry: the backends the project ships, and loading one by name or by module path (the CLIs, the
// benchmarks and the conformance runner share it). Browser-safe: only a file-path spec reaches Node's built-ins.
export {
  type BackendReport,
  isModulePath,
  KNOWN_BACKENDS,
  type KnownBackend,
  loadBackend,
  type ModuleImporter,
  probeKnownBackends,
} from '../registry.js';
