import type { Command } from 'commander';

// Placeholder: the real 'evaluate' command replaces this file (see the issue tracker).
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate (not yet implemented)')
    .action(() => {
      throw new Error("'vitlens evaluate' is not implemented yet");
    });
}
