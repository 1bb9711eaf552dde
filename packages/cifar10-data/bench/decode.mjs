// Data-pipeline throughput on the shared CIFAR-10 JPEGs: decode rate, augmented batch rates at
// 32×32 and 224×224, and (with --full) loading all 50,000 images cold and from the decoded cache.
// Run after a build: `pnpm --filter @vitlens/cifar10-data build && node bench/decode.mjs [--full] [--workers N] [--backend wasm|cpu]`
import { initBackend } from '@vitlens/core';
import { benchData } from '@vitlens/cifar10-data/node';

const args = process.argv.slice(2);
const backendIndex = args.indexOf('--backend');
const prefer = backendIndex >= 0 ? args[backendIndex + 1] : 'wasm';
const choice = await initBackend({ prefer });
const workersIndex = args.indexOf('--workers');
const workers = workersIndex >= 0 ? Number(args[workersIndex + 1]) : undefined;
const result = await benchData({ fullLoad: args.includes('--full'), workers, log: (m) => console.error(m) });
console.log(JSON.stringify({ ...result, backend: choice.name }, null, 2));
