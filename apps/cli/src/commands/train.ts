import type { Command } from 'commander';

// Placeholder: the real 'train' command replaces this file (see the issue tracker).
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train (not yet implemented)')
    .action(() => {
      throw new Error("'vitlens train' is not implemented yet");
    });
}
