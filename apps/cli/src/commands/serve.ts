import type { Command } from 'commander';

// Placeholder: the real 'serve' command replaces this file (see the issue tracker).
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve (not yet implemented)')
    .action(() => {
      throw new Error("'vitlens serve' is not implemented yet");
    });
}
