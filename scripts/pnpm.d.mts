// Types of scripts/pnpm.mjs, for the TypeScript tests that rebuild packages with it.
import type { ExecFileSyncOptions } from 'node:child_process';

export const repoRoot: string;
export function pinnedPnpm(root?: string): string;
export function pnpmCommand(env?: NodeJS.ProcessEnv): { command: string; args: string[] };
export function runPnpm(args: readonly string[], options?: ExecFileSyncOptions): string | Buffer;
