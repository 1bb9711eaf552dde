#!/usr/bin/env node
import { env } from './env';
import { runCli } from './index';

if (env.reportPeakMemory) {
  process.on('exit', () => {
    process.stderr.write(`vitlens: peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB (maxRSS)\n`);
  });
}

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vitlens: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
