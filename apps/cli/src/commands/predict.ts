import type { Command } from 'commander';

// Placeholder: the real 'predict' command replaces this file (see the issue tracker).
export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict (not yet implemented)')
    .action(() => {
      throw new Error("'vitlens predict' is not implemented yet");
    });
}
