#!/usr/bin/env node
// Makes sure the system programs the tests need are present: Debian's Chromium for the browser
// tests (never a browser download). On a Debian machine where we are root it installs it with
// apt-get; elsewhere it says exactly what to install.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

const CHROMIUM = process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium';

function have(path) {
  return fs.existsSync(path);
}

if (!have(CHROMIUM)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    console.log(`ensure-system-deps: ${CHROMIUM} is missing; installing Debian's chromium with apt-get`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    console.error(
      `ensure-system-deps: the browser tests need Chromium at ${CHROMIUM} ` +
        `(Debian/Ubuntu: 'sudo apt-get install chromium'; or set VITLENS_CHROMIUM to its path)`,
    );
    process.exit(1);
  }
}
