// Everything of the browser entry (no Node built-ins), plus the fixtures read from disk and the report.
export * from './browser.js';
export { FIXTURES_DIR, listCases, loadCase, readIndex } from './cases.js';
export { type ConformanceReport, formatReport, runConformance } from './report.js';
