export { type BackendReport, KNOWN_BACKENDS, loadBackend, type ModuleImporter, probeKnownBackends } from './backends.js';
