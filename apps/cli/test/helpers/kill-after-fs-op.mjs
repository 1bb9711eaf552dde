// Test-only preload (`node --import <this file> dist/bin.js …`): aims a kill -9 at an exact point
// of a checkpoint save by SIGKILLing the process right after its N-th file-system change (rename,
// rm, symlink, link, mkdir, …) on a path inside one folder. Production code has no hook for it.
//   VITLENS_TEST_FS_DIR    the folder whose changes are counted (required)
//   VITLENS_TEST_KILL_AT   kill after this change (1-based); unset: never
//   VITLENS_TEST_FS_TRACE  a file that gets one line per counted change: "<n> <op> <path> [<path>]"
import { appendFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

const dir = process.env.VITLENS_TEST_FS_DIR ? path.resolve(process.env.VITLENS_TEST_FS_DIR) : undefined;
const killAt = Number(process.env.VITLENS_TEST_KILL_AT ?? 0);
const trace = process.env.VITLENS_TEST_FS_TRACE;
let count = 0;

if (dir !== undefined) {
  for (const op of ['rename', 'rm', 'rmdir', 'unlink', 'symlink', 'link', 'mkdir', 'copyFile', 'cp']) {
    const original = fs[op];
    fs[op] = async function (...args) {
      const result = await original.apply(this, args);
      // symlink(target, path): the target is relative to the link, so only paths that resolve inside count
      const inside = args.slice(0, 2).filter((a) => typeof a === 'string' && path.resolve(a).startsWith(dir + path.sep));
      if (inside.length > 0) {
        count++;
        if (trace) appendFileSync(trace, `${count} ${op} ${args.slice(0, 2).filter((a) => typeof a === 'string').join(' ')}\n`);
        if (count === killAt) process.kill(process.pid, 'SIGKILL');
      }
      return result;
    };
  }
}
