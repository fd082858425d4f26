import os from 'node:os';
import type { BandwidthMeasurement } from './bandwidth.js';

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  availableParallelism: number;
  memoryBytes: number;
  node: string;
  v8: string;
  os: string;
  arch: string;
  /** 1-minute load average at the start and the end: others' work on a shared machine skews timings. */
  loadAverageStart: number;
  loadAverageEnd?: number;
  hostname: string;
  /** Memory bandwidth measured in Node before the targets start (see bandwidth.ts); absent when not measured. */
  memoryBandwidth?: BandwidthMeasurement;
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    logicalCores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    loadAverageStart: os.loadavg()[0]!,
    hostname: os.hostname(),
  };
}

export function finishMachine(m: MachineInfo): MachineInfo {
  return { ...m, loadAverageEnd: os.loadavg()[0]! };
}
