#!/usr/bin/env node
// `pnpm demo`: serve the page with the shipped model (models/default). When the shared CIFAR-10
// images are beside the checkout, the page's "random test image" button draws from them.
// Extra arguments go to `vitlens serve` (e.g. `pnpm demo --port 9000`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = [path.join(repo, 'apps', 'cli', 'dist', 'bin.js'), 'serve', ...process.argv.slice(2)];
const shared = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repo, '..', 'shared', 'data', 'cifar10-jpeg');
if (!args.includes('--data') && fs.existsSync(path.join(shared, 'train'))) args.push('--data', path.join(shared, 'train'));
const child = spawn(process.execPath, args, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
