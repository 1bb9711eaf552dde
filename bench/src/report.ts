import type { JobResult } from './jobs';
import type { MachineInfo } from './machine';

export interface Row {
  preset: string;
  what: 'inference' | 'latency' | 'training';
  batch: number;
  microBatch?: number;
  /** Replicas computing in parallel (1 = the main thread only). */
  workers: number;
  result: JobResult | { error: string };
  /** The per-core plain-matMul roofline this row is held to, GFLOP/s, measured with `workers` cores busy. */
  rooflineGflops?: number;
  torch?: { threads: number; imagesPerSecond: number }[];
}

export interface Report {
  command: string;
  date: string;
  machine: MachineInfo;
  backend: { name: string; threads: number; simd: boolean | null } | null;
  torch: { available: boolean; note: string; mmGflops?: Record<string, number> };
  roofline: JobResult[];
  data: JobResult | { error: string } | null;
  rows: Row[];
  quick: boolean;
}

const f = (x: number | undefined | null, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(d));

/** The fraction of roofline a row reaches: effective GFLOP/s / (roofline per core × cores used). */
export function rooflineFraction(row: Row): number | undefined {
  if ('error' in row.result || row.rooflineGflops === undefined || row.result.gflopsEffective === undefined) return undefined;
  return row.result.gflopsEffective / (row.rooflineGflops * row.workers);
}

export function toMarkdown(r: Report): string {
  const lines: string[] = [];
  lines.push('# vitlens benchmarks', '');
  lines.push(`Command: \`${r.command}\`${r.quick ? ' (quick: small batches, fewer runs)' : ''}  `);
  lines.push(`Date: ${r.date}  `);
  lines.push(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.platform}; Node ${r.machine.node}; tfjs-core ${r.machine.tfjs}; load average at start ${r.machine.loadAverage.join(' / ')}  `);
  if (r.backend) lines.push(`Backend: ${r.backend.name}, ${r.backend.threads} thread(s) per replica, SIMD ${r.backend.simd ?? 'n/a'}  `);
  lines.push(`PyTorch reference: ${r.torch.note}${r.torch.mmGflops ? ` — 2048² torch.mm: ${Object.entries(r.torch.mmGflops).map(([t, g]) => `${f(g, 0)} GFLOP/s at ${t} thread(s)`).join(', ')}` : ''}`);
  lines.push('', 'Figures are medians of the timed runs after warm-up; "spread" is (max − min) / median. Training is forward + loss + backward + AdamW on synthetic images; effective GFLOP/s counts matmul FLOPs only (training = 3 × forward).', '');

  lines.push('## Model', '');
  lines.push('| preset | measure | batch (micro) | workers | images/s | s/image | eff. GFLOP/s | roofline/core | of roofline | peak RSS MiB | wasm heap MiB | spread | torch 1t | torch 2t | vitlens / torch (same cores) |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of r.rows) {
    const batch = row.microBatch !== undefined && row.microBatch < row.batch ? `${row.batch} (${row.microBatch})` : String(row.batch);
    if ('error' in row.result) {
      lines.push(`| ${row.preset} | ${row.what} | ${batch} | ${row.workers} | failed: ${row.result.error.split('\n')[0]?.slice(0, 120)} | | | | | | | | | | |`);
      continue;
    }
    const res = row.result;
    const frac = rooflineFraction(row);
    const t1 = row.torch?.find((t) => t.threads === 1)?.imagesPerSecond;
    const t2 = row.torch?.find((t) => t.threads === 2)?.imagesPerSecond;
    const same = row.torch?.find((t) => t.threads === row.workers)?.imagesPerSecond;
    lines.push(
      `| ${row.preset} | ${row.what} | ${batch} | ${row.workers} | ${f(res.value, 2)} | ${f(res.secondsPerImage, 3)} | ${f(res.gflopsEffective)} | ${f(row.rooflineGflops)} | ${frac === undefined ? '–' : `${f(frac * 100, 0)}%`} | ${f(res.peakRssMiB, 0)} | ${f(res.wasmHeapMiB, 0)} | ${f(res.spread * 100, 0)}% | ${f(t1)} | ${f(t2)} | ${same ? f(res.value / same, 3) : '–'} |`,
    );
  }

  lines.push('', '## Roofline: the backend\'s own plain 2-D matMul at the model\'s shapes, per core', '');
  lines.push('With 2 cores busy, two processes run the same shapes at once and the figure is their mean (for the 2-worker rows).', '');
  lines.push('| preset | pass | batch | cores busy | FLOP-weighted GFLOP/s per core | shapes (GFLOP/s, first process) |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const j of r.roofline) {
    if (j.job.kind !== 'roofline') continue;
    const shapes = (j.detail?.shapes as { shape: string; what: string; gflops: number }[]) ?? [];
    const cores = (j.detail?.cores as number | undefined) ?? 1;
    lines.push(`| ${j.job.preset} | ${j.job.training ? 'training (fwd + dX + dW)' : 'forward'} | ${j.job.batch} | ${cores} | ${f(j.value)} | ${shapes.map((s) => `${s.what} ${s.shape}: ${f(s.gflops)}`).join('; ')} |`);
  }

  lines.push('', '## Data pipeline', '');
  if (r.data === null) lines.push('Not measured (--only).');
  else if ('error' in r.data) lines.push(`Not measured: ${r.data.error.split('\n')[0]}`);
  else {
    const d = r.data.detail as { decodeImages?: number; batches?: { policy: string; size: number; imagesPerSecond: number }[] };
    lines.push(`JPEG decode (one thread, ${d.decodeImages ?? '?'} images from memory): ${f(r.data.value, 0)} images/s.`, '');
    lines.push('| augmentation | model input | batches: images/s |', '| --- | --- | --- |');
    for (const b of d.batches ?? []) lines.push(`| ${b.policy} | ${b.size}×${b.size} | ${f(b.imagesPerSecond, 0)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
