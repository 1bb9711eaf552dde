import type { Command } from 'commander';
import { initBackend } from '@vitlens/core';
import { narrowModel } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';
import { backendOption } from './options';
import { type WidenReport, compareModels, describeResize, factorArg, holdsCheckpoint, resizeReport } from './widen';

export interface NarrowFlags {
  checkpoint: string;
  out: string;
  factor: number;
  backend?: string;
}

/** The same fields as `vitlens widen`'s report: `from` is the wide model, `to` the narrow one. */
export type NarrowReport = WidenReport;

/**
 * `vitlens narrow`: the inverse of `vitlens widen`. Merges the copies of a widened checkpoint's
 * residual stream into one (see `narrowWeights` in `@vitlens/vit-model`) and reports how far the
 * narrow model's logits and attention maps are from the wide one's on random images: ~0 for a
 * model `widen` just wrote, more for one trained on, whose copies drifted apart. With `vitlens
 * widen --noise-std` it re-splits the copies of a widened model that training never pulled apart.
 * Refuses to overwrite a checkpoint folder.
 */
export async function runNarrow(flags: NarrowFlags, log: (m: string) => void = () => {}): Promise<NarrowReport> {
  await initBackend({ prefer: flags.backend as never });
  const existing = await holdsCheckpoint(flags.out);
  if (existing) throw new Error(`--out ${flags.out} already holds a checkpoint (${existing}); choose a new folder (nothing was written)`);
  const wide = await loadCheckpoint(flags.checkpoint);
  try {
    const narrow = narrowModel(wide, { factor: flags.factor });
    try {
      const check = compareModels(wide, narrow);
      await saveCheckpoint(narrow, flags.out);
      const report = resizeReport({ checkpoint: flags.checkpoint, model: wide }, { checkpoint: flags.out, model: narrow }, check);
      log(
        `${describeResize('narrowed', report)} (copies that drifted apart in training are merged into their mean: ` +
          `\`vitlens evaluate --checkpoint ${flags.out}\` measures what that costs)`,
      );
      return report;
    } finally {
      narrow.dispose();
    }
  } finally {
    wide.dispose();
  }
}

export function registerNarrow(program: Command): void {
  program
    .command('narrow')
    .description(
      "the inverse of `vitlens widen`: merge a widened checkpoint's N copies of each channel into one (their mean), a checkpoint N times narrower; `vitlens widen` on it re-splits the copies with new noise",
    )
    .argument('<checkpoint>', 'checkpoint folder, URL or Hub id made by `vitlens widen` (and trained on)')
    .requiredOption('--out <dir>', 'new checkpoint folder (must not hold a checkpoint)')
    .option('--factor <n>', 'the new hidden size is the old one / n (an integer ≥ 2 that divides each head’s size)', factorArg, 2)
    .option('--json', 'print the report as JSON')
    .addOption(backendOption())
    .action(async (checkpoint: string, opts: Omit<NarrowFlags, 'checkpoint'> & { json?: boolean }) => {
      const report = await runNarrow({ ...opts, checkpoint }, (m) => process.stderr.write(`${m}\n`));
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
