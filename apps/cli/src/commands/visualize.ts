import type { Command } from 'commander';

// Placeholder: the real 'visualize' command replaces this file (see the issue tracker).
export function registerVisualize(program: Command): void {
  program
    .command('visualize')
    .description('visualize (not yet implemented)')
    .action(() => {
      throw new Error("'vitlens visualize' is not implemented yet");
    });
}
