#!/usr/bin/env node
// README examples are files: each package's examples/ holds runnable files that import the package by
// name, and its README embeds each one, between
//   <!-- example:start examples/FILE -->
//   ```js
//   …the file's exact content…
//   ```
//   <!-- example:end -->
// (the path is relative to the README's folder). scripts/registry-test.mjs runs the files against
// the published packages; this script keeps the READMEs equal to them:
//   node scripts/readme-examples.mjs --check   exits 1 listing every block that differs from its file,
//                                              names a missing file, and every example no README embeds
//   node scripts/readme-examples.mjs --write   rewrites the blocks from the files
// `pnpm lint` runs --check.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START = /^<!-- example:start (\S+) -->$/;
const END = '<!-- example:end -->';
const LANGUAGES = { '.mjs': 'js', '.cjs': 'js', '.js': 'js', '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.html': 'html', '.sh': 'sh', '.json': 'json' };

/** The package folders of pnpm-workspace.yaml (`dir` or `dir/*` entries), and the root. */
export function workspaceDirs() {
  const yaml = fs.readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
  const dirs = [root];
  let inPackages = false;
  for (const line of yaml.split('\n')) {
    if (/^packages:\s*$/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    const entry = inPackages && line.match(/^\s+-\s+["']?([^"'#]+?)["']?\s*$/);
    if (!entry) continue;
    const pattern = entry[1];
    if (pattern.endsWith('/*')) {
      const parent = path.join(root, pattern.slice(0, -2));
      if (!fs.existsSync(parent)) continue;
      for (const name of fs.readdirSync(parent).sort()) {
        if (fs.existsSync(path.join(parent, name, 'package.json'))) dirs.push(path.join(parent, name));
      }
    } else if (fs.existsSync(path.join(root, pattern, 'package.json'))) {
      dirs.push(path.join(root, pattern));
    }
  }
  return dirs;
}

/** The fenced block for a file's content: a fence longer than any backtick run inside it. */
function fenced(file, content) {
  const lang = LANGUAGES[path.extname(file)] ?? '';
  const longest = Math.max(2, ...Array.from(content.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${content}${content.endsWith('\n') ? '' : '\n'}${fence}`;
}

/**
 * Every example block of one README: `{ file, line, start, end, current }`, where lines start..end
 * (exclusive) hold the block between the markers. Malformed markers are returned as problems.
 */
export function exampleBlocks(readmePath) {
  const lines = fs.readFileSync(readmePath, 'utf8').split('\n');
  const blocks = [];
  const problems = [];
  const rel = path.relative(root, readmePath);
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(START);
    if (!m) continue;
    const end = lines.indexOf(END, i + 1);
    const nextStart = lines.findIndex((l, j) => j > i && START.test(l));
    if (end < 0 || (nextStart >= 0 && nextStart < end)) {
      problems.push(`${rel}:${i + 1}: '${lines[i]}' has no '${END}' before the next example or the end of the file`);
      continue;
    }
    blocks.push({ file: m[1], line: i + 1, start: i + 1, end, current: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return { lines, blocks, problems };
}

function firstDifference(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      const show = (s) => (s === undefined ? '(nothing)' : JSON.stringify(s.length > 90 ? `${s.slice(0, 90)}…` : s));
      return `block line ${i + 1}: README has ${show(x[i])}, the file gives ${show(y[i])}`;
    }
  }
  return 'they differ';
}

function listExamples(dir) {
  const examples = path.join(dir, 'examples');
  if (!fs.existsSync(examples)) return [];
  const out = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(p);
      } else out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  walk(examples);
  return out.sort();
}

export function run(mode) {
  const problems = [];
  let changed = 0;
  let checked = 0;
  for (const dir of workspaceDirs()) {
    const readme = path.join(dir, 'README.md');
    const embedded = new Set();
    if (fs.existsSync(readme)) {
      const { lines, blocks, problems: malformed } = exampleBlocks(readme);
      problems.push(...malformed);
      const rel = path.relative(root, readme);
      let rewritten = false;
      // Replace from the last block up, so earlier line numbers stay valid.
      for (const block of [...blocks].reverse()) {
        embedded.add(block.file);
        const filePath = path.join(dir, block.file);
        if (!fs.existsSync(filePath)) {
          problems.push(`${rel}:${block.line}: embeds ${block.file}, which does not exist`);
          continue;
        }
        checked++;
        const want = fenced(block.file, fs.readFileSync(filePath, 'utf8'));
        if (block.current === want) continue;
        if (mode === 'write') {
          lines.splice(block.start, block.end - block.start, ...want.split('\n'));
          rewritten = true;
          changed++;
        } else {
          problems.push(`${rel}:${block.line}: the block of ${block.file} differs from the file (${firstDifference(block.current, want)})`);
        }
      }
      if (rewritten) fs.writeFileSync(readme, lines.join('\n'));
    }
    for (const file of listExamples(dir)) {
      if (!embedded.has(file)) {
        problems.push(`${path.relative(root, path.join(dir, file))}: no '<!-- example:start ${file} -->' block in ${path.relative(root, readme)}`);
      }
    }
  }
  return { problems, changed, checked };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const mode = process.argv.includes('--write') ? 'write' : process.argv.includes('--check') ? 'check' : null;
  if (!mode) {
    console.error('usage: node scripts/readme-examples.mjs --check | --write');
    process.exit(2);
  }
  const { problems, changed, checked } = run(mode);
  if (mode === 'write') console.log(`readme-examples: ${changed} block(s) rewritten, ${checked - changed} already equal to their files`);
  if (problems.length > 0) {
    console.error(`readme-examples: ${problems.length} problem(s)${mode === 'check' ? ' (`node scripts/readme-examples.mjs --write` refreshes the blocks from the files)' : ''}:`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  if (mode === 'check') console.log(`readme-examples: ${checked} README example block(s) equal to their files`);
}
