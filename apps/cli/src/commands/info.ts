import os from 'node:os';
import type { Command } from 'commander';
import { initBackend, tf, version as coreVersion } from '@vitlens/core';
import { CLI_VERSION } from '../version';
import { backendOption } from './options';

export interface InfoReport {
  vitlens: string;
  core: string;
  tfjsCore: string;
  node: string;
  platform: string;
  cpus: number;
  backend: string;
  backendModule: string;
  reason: string;
  /** libtensorflow's version when the backend is the native `tensorflow` one. */
  tensorflow: string | null;
  skipped: { module: string; error: string }[];
}

/** Gather versions and the backend vitlens picks on this machine. */
export async function collectInfo(prefer?: string): Promise<InfoReport> {
  const choice = await initBackend({ prefer: prefer as never });
  return {
    vitlens: CLI_VERSION,
    core: coreVersion,
    tfjsCore: tf.version_core,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    backend: choice.name,
    backendModule: choice.module,
    reason: choice.reason,
    tensorflow: choice.tensorflowVersion ?? null,
    skipped: choice.attempts.filter((a) => !a.ok).map((a) => ({ module: a.module, error: a.error ?? '' })),
  };
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print versions and the TensorFlow.js backend vitlens picks here, and why')
    .addOption(backendOption())
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      const info = await collectInfo(opts.backend);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const lines = [
        `vitlens        ${info.vitlens} (@vitlens/core ${info.core})`,
        `tfjs-core      ${info.tfjsCore}`,
        `node           ${info.node} (${info.platform}, ${info.cpus} CPUs)`,
        `backend        ${info.backend} via ${info.backendModule}`,
        ...(info.tensorflow ? [`tensorflow     ${info.tensorflow} (libtensorflow behind ${info.backendModule})`] : []),
        `why            ${info.reason}`,
        ...info.skipped.map((s) => `skipped        ${s.module}: ${s.error}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
