export { KNOWN_BACKENDS, loadBackend, probeKnownBackends, type BackendReport, type ModuleImporter } from './backends.js';
