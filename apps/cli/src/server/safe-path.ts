import fs from 'node:fs/promises';
import path from 'node:path';

/** Why a request path was refused; `status` is the HTTP status to answer with. */
export class PathRefusedError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404,
  ) {
    super(message);
    this.name = 'PathRefusedError';
  }
}

/**
 * Split the raw request target into decoded path segments, refusing anything that could name a
 * file outside the served folder: `..` and `.` segments (plain or percent-encoded), encoded
 * slashes or backslashes, NUL bytes and malformed percent-encoding. Empty segments (`//`) are
 * dropped, so `//etc/passwd` is `etc/passwd` inside the root, never the absolute path.
 */
export function decodePathSegments(rawTarget: string): string[] {
  let target = rawTarget;
  // absolute-form request targets ("GET http://host/path"): keep only the path
  // (parsed by hand: `new URL` would resolve `..` and hide the attempt)
  if (!target.startsWith('/')) {
    const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
    if (origin === null) {
      throw new PathRefusedError(`request target '${rawTarget.slice(0, 80)}' is neither a path nor a URL`, 400);
    }
    target = target.slice(origin[0].length) || '/';
  }
  const query = target.search(/[?#]/);
  const pathPart = query === -1 ? target : target.slice(0, query);
  const segments: string[] = [];
  for (const raw of pathPart.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new PathRefusedError(`path segment '${raw.slice(0, 80)}' is not valid percent-encoding`, 400);
    }
    if (segment === '.' || segment === '..') {
      throw new PathRefusedError(`path segment '${raw}' leaves the served folder`, 403);
    }
    if (/[/\\\0]/.test(segment)) {
      throw new PathRefusedError(`path segment '${raw.slice(0, 80)}' contains a slash, backslash or NUL byte`, 403);
    }
    segments.push(segment);
  }
  return segments;
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Resolve decoded segments to a regular file inside `root`, following symlinks only when their
 * target stays inside `root` too. Returns the real path and size; throws `PathRefusedError`
 * (404 when missing or not a file, 403 when a symlink leads out).
 */
export async function resolveInside(root: string, segments: readonly string[]): Promise<{ file: string; size: number; mtime: Date }> {
  const realRoot = await fs.realpath(root);
  const joined = path.resolve(realRoot, ...segments);
  if (!isInside(realRoot, joined)) throw new PathRefusedError(`'${segments.join('/')}' is outside the served folder`, 403);
  let real: string;
  try {
    real = await fs.realpath(joined);
  } catch {
    throw new PathRefusedError(`'${segments.join('/')}' was not found`, 404);
  }
  if (!isInside(realRoot, real)) {
    throw new PathRefusedError(`'${segments.join('/')}' is a link to a file outside the served folder`, 403);
  }
  const stat = await fs.stat(real);
  if (!stat.isFile()) throw new PathRefusedError(`'${segments.join('/')}' is not a file`, 404);
  return { file: real, size: stat.size, mtime: stat.mtime };
}
