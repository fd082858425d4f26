import { type AttentionRequest, npyToFloat32, readNpy, SparseAttentionError } from '@sparse/core';
import type { CaseManifest } from './manifest.js';

/** A golden case ready to run: the request and the float64 expected outputs. */
export interface GoldenCase {
  manifest: CaseManifest;
  request: AttentionRequest;
  expected: { out: Float64Array; lse: Float64Array };
}

export function makeFilter(filter: string | undefined): (m: CaseManifest) => boolean {
  if (!filter) return () => true;
  const re = /^\/(.*)\/([a-z]*)$/.exec(filter);
  if (re) {
    const rx = new RegExp(re[1]!, re[2]);
    return (m) => rx.test(m.id) || m.tags.some((t) => rx.test(t));
  }
  return (m) => m.id.includes(filter) || m.tags.includes(filter);
}

/**
 * Builds a case from its manifest and file bytes: the portable entry point for runtimes without `fs` (a browser
 * page fetches the files and calls this).
 */
export function caseFromFiles(manifest: CaseManifest, files: Record<keyof CaseManifest['files'], Uint8Array>): GoldenCase {
  const tensor = (name: 'q' | 'k' | 'v') => {
    const a = readNpy(files[name], `${manifest.id}/${manifest.files[name]}`);
    return { data: npyToFloat32(a), shape: a.shape };
  };
  const float64 = (name: 'out' | 'lse') => {
    const a = readNpy(files[name], `${manifest.id}/${manifest.files[name]}`);
    if (a.dtype !== 'float64') throw new SparseAttentionError('INVALID_ARGUMENT', `${manifest.id}/${manifest.files[name]}: expected outputs must be float64`);
    return a.data as Float64Array;
  };
  const request: AttentionRequest = { q: tensor('q'), k: tensor('k'), v: tensor('v'), pattern: manifest.pattern, layout: manifest.layout, returnLse: true };
  if (manifest.scale !== undefined) request.scale = manifest.scale;
  if (manifest.queryOffset !== undefined) request.queryOffset = manifest.queryOffset;
  return { manifest, request, expected: { out: float64('out'), lse: float64('lse') } };
}
