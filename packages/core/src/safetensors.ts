/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written from and to
 * bytes so it runs the same in Node and the browser:
 *
 *   [8 bytes: N, little-endian u64] [N bytes: JSON header, space-padded] [data section]
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets into
 * the data section) plus an optional `__metadata__` string→string map. Tensors are little-endian,
 * row-major, and must tile the data section exactly: no overlaps, no holes, no trailing bytes.
 */
import { float16ArrayToFloat32 } from './float16';

export { float16BitsToFloat32, float32ToBF16, float32ToF16 } from './float16';

/** The element types vitlens reads and writes, by their safetensors names. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/**
 * The typed array behind each dtype. F16 and BF16 hold the raw 16-bit patterns (convert with
 * `tensorToFloat32`, or from float32 with `float32ToF16` / `float32ToBF16`); BOOL holds 0 or 1 bytes.
 */
export interface SafetensorsArrayTypes {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

export type SafetensorsTypedArray = SafetensorsArrayTypes[SafetensorsDtype];

/** One tensor: its dtype, its shape (`[]` for a scalar) and its elements in row-major order. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsTypedArray;
}

export interface SafetensorsContents {
  /** Tensors in the order they are stored in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` map (`{}` when the file has none). */
  metadata: Record<string, string>;
}

export interface ReadSafetensorsOptions {
  /** Names the bytes in error messages (a path or URL). Default: `'safetensors buffer'`. */
  source?: string | undefined;
}

/** A file or tensor map that is not valid safetensors; `source` and `tensor` say where. */
export class SafetensorsError extends Error {
  constructor(
    message: string,
    readonly source: string,
    readonly tensor?: string,
  ) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

interface DtypeInfo {
  bytes: number;
  /** Rank in the reference implementation's `Dtype` enum, which orders by alignment. */
  rank: number;
  make: (buffer: ArrayBufferLike, byteOffset: number, length: number) => SafetensorsTypedArray;
  alloc: (length: number) => SafetensorsTypedArray;
  ctor: { name: string };
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  BOOL: { bytes: 1, rank: 0, make: (b, o, n) => new Uint8Array(b, o, n), alloc: (n) => new Uint8Array(n), ctor: Uint8Array },
  U8: { bytes: 1, rank: 1, make: (b, o, n) => new Uint8Array(b, o, n), alloc: (n) => new Uint8Array(n), ctor: Uint8Array },
  I8: { bytes: 1, rank: 2, make: (b, o, n) => new Int8Array(b, o, n), alloc: (n) => new Int8Array(n), ctor: Int8Array },
  I16: { bytes: 2, rank: 5, make: (b, o, n) => new Int16Array(b, o, n), alloc: (n) => new Int16Array(n), ctor: Int16Array },
  F16: { bytes: 2, rank: 7, make: (b, o, n) => new Uint16Array(b, o, n), alloc: (n) => new Uint16Array(n), ctor: Uint16Array },
  BF16: { bytes: 2, rank: 8, make: (b, o, n) => new Uint16Array(b, o, n), alloc: (n) => new Uint16Array(n), ctor: Uint16Array },
  I32: { bytes: 4, rank: 9, make: (b, o, n) => new Int32Array(b, o, n), alloc: (n) => new Int32Array(n), ctor: Int32Array },
  F32: { bytes: 4, rank: 11, make: (b, o, n) => new Float32Array(b, o, n), alloc: (n) => new Float32Array(n), ctor: Float32Array },
  F64: { bytes: 8, rank: 12, make: (b, o, n) => new Float64Array(b, o, n), alloc: (n) => new Float64Array(n), ctor: Float64Array },
  I64: { bytes: 8, rank: 13, make: (b, o, n) => new BigInt64Array(b, o, n), alloc: (n) => new BigInt64Array(n), ctor: BigInt64Array },
};

/** Every dtype vitlens supports, largest alignment first. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = (Object.keys(DTYPES) as SafetensorsDtype[]).sort(
  (a, b) => DTYPES[b].rank - DTYPES[a].rank,
);

/** The reference implementation refuses headers over 100 MB; so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of a dtype. */
export function dtypeByteSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].bytes;
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

function shapeText(shape: readonly unknown[]): string {
  return `[${shape.map((d) => JSON.stringify(d)).join(', ')}]`;
}

function asBytes(input: Uint8Array | ArrayBuffer, source: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  // Cross-realm buffers (e.g. from a worker) fail instanceof; accept anything shaped like one.
  const maybe = input as { byteLength?: unknown; buffer?: unknown; byteOffset?: unknown };
  if (ArrayBuffer.isView(maybe)) return new Uint8Array(maybe.buffer, maybe.byteOffset, maybe.byteLength);
  throw new SafetensorsError(`${source}: expected a Uint8Array or ArrayBuffer, got ${typeof input}`, source);
}

type HeaderEntry = SafetensorsHeaderEntry;

/** Parse and check one header entry: field presence and types, dtype, shape, offsets, size. */
function parseEntry(name: string, value: unknown, dataBytes: number, source: string): HeaderEntry {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${source}: tensor '${name}': ${what}`, source, name);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`expected an object {dtype, shape, data_offsets}, got ${JSON.stringify(value)}`);
  }
  const entry = value as Record<string, unknown>;
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(entry, field)) fail(`missing field '${field}' (expected {dtype, shape, data_offsets})`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (!isDtype(dtype)) {
    fail(`unknown dtype ${JSON.stringify(dtype)}; supported dtypes are ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  const info = DTYPES[dtype as SafetensorsDtype];
  if (!Array.isArray(shape)) fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  const dims = shape as unknown[];
  dims.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`shape ${shapeText(dims)}: dimension ${i} is ${JSON.stringify(d)}, expected a non-negative integer`);
    }
  });
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    offsets.some((o) => typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0)
  ) {
    fail(`data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) {
    fail(`data_offsets [${begin}, ${end}] are out of range: the data section is ${dataBytes} bytes`);
  }
  // A hostile shape must not overflow into a plausible size: sizes past 2^53 are marked infinite.
  let elements = (dims as number[]).includes(0) ? 0 : 1;
  for (const d of dims as number[]) elements = elements * d > Number.MAX_SAFE_INTEGER ? Infinity : elements * d;
  const expected = elements * info.bytes;
  if (expected !== end - begin) {
    const size = Number.isFinite(expected) ? `${expected} bytes` : `more than 2^53 bytes`;
    fail(
      `shape ${shapeText(dims)} × ${dtype} (${info.bytes} byte(s) each) needs ${size}, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims as number[], begin, end };
}

/** A view on the file's bytes when aligned (and the host is little-endian), otherwise a copy. */
function tensorData(bytes: Uint8Array, start: number, entry: HeaderEntry): SafetensorsTypedArray {
  const info = DTYPES[entry.dtype];
  const length = (entry.end - entry.begin) / info.bytes;
  const byteOffset = bytes.byteOffset + start + entry.begin;
  if (info.bytes === 1 || LITTLE_ENDIAN_HOST) {
    if (byteOffset % info.bytes === 0) return info.make(bytes.buffer, byteOffset, length);
    const copy = new Uint8Array(entry.end - entry.begin);
    copy.set(bytes.subarray(start + entry.begin, start + entry.end));
    return info.make(copy.buffer, 0, length);
  }
  // Big-endian host: decode element by element.
  const view = new DataView(bytes.buffer, byteOffset, entry.end - entry.begin);
  const out = info.alloc(length);
  for (let i = 0; i < length; i++) {
    const at = i * info.bytes;
    switch (entry.dtype) {
      case 'F64': (out as Float64Array)[i] = view.getFloat64(at, true); break;
      case 'F32': (out as Float32Array)[i] = view.getFloat32(at, true); break;
      case 'I64': (out as BigInt64Array)[i] = view.getBigInt64(at, true); break;
      case 'I32': (out as Int32Array)[i] = view.getInt32(at, true); break;
      case 'I16': (out as Int16Array)[i] = view.getInt16(at, true); break;
      default: (out as Uint16Array)[i] = view.getUint16(at, true); break;
    }
  }
  return out;
}

/** One tensor as the header describes it: dtype, shape and its byte range in the data section. */
export interface SafetensorsHeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets into the data section, as `data_offsets`. */
  begin: number;
  end: number;
}

/** A checked safetensors header: the tensors (no data), `__metadata__`, and where the data section starts. */
export interface SafetensorsHeader {
  /** Sorted by offset; together they tile the data section exactly. */
  entries: SafetensorsHeaderEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + the header length). */
  dataStart: number;
}

/**
 * Parse and check the header of a safetensors file of `fileBytes` bytes whose first bytes are
 * `prefix` (at least the 8-byte length and the header; the whole file will do). Checks everything
 * `readSafetensors` checks without the tensor data, so a truncated or padded file is caught from
 * its header and size alone.
 */
export function parseSafetensorsHeader(prefix: Uint8Array, fileBytes: number, options: ReadSafetensorsOptions = {}): SafetensorsHeader {
  const source = options.source ?? 'safetensors buffer';
  const fail = (what: string): never => {
    throw new SafetensorsError(`${source}: ${what}`, source);
  };
  if (fileBytes < 8 || prefix.length < 8) fail(`${fileBytes} bytes is shorter than the 8-byte header length that starts a safetensors file`);
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte (100 MB) limit`);
  }
  const n = Number(headerLength);
  if (8 + n > fileBytes) {
    fail(`header length ${n} bytes runs past the end of the file (${fileBytes} bytes, so at most ${fileBytes - 8})`);
  }
  if (8 + n > prefix.length) fail(`parseSafetensorsHeader: given ${prefix.length} bytes, the header needs ${8 + n}`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + n));
  } catch {
    fail(`the ${n}-byte header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(`the header is not valid JSON (${(error as Error).message}): ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`the header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}, got ${JSON.stringify(header)?.slice(0, 80)}`);
  }
  const dataStart = 8 + n;
  const dataBytes = fileBytes - dataStart;

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail(`${METADATA_KEY} must be an object of string values, got ${JSON.stringify(value)}`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY}['${k}'] must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, value, dataBytes, source));
  }

  // The tensors must tile the data section: sorted by offset, each begins where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of entries) {
    const where = `tensor '${entry.name}' data_offsets [${entry.begin}, ${entry.end}]`;
    if (entry.begin < cursor) {
      throw new SafetensorsError(
        `${source}: ${where} overlap tensor '${previous?.name}' [${previous?.begin}, ${previous?.end}]`,
        source,
        entry.name,
      );
    }
    if (entry.begin > cursor) {
      const after = previous ? `after tensor '${previous.name}' (ends at ${cursor})` : 'at the start of the data section';
      throw new SafetensorsError(
        `${source}: ${where} leave a hole of ${entry.begin - cursor} byte(s) ${after}`,
        source,
        entry.name,
      );
    }
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== dataBytes) {
    fail(
      `${dataBytes - cursor} byte(s) after the last tensor${previous ? ` '${previous.name}'` : ''} ` +
        `are not covered by any tensor (data section ${dataBytes} bytes, tensors end at ${cursor})`,
    );
  }
  return { entries, metadata, dataStart };
}

/**
 * Parse safetensors bytes. Everything is validated before any tensor is built; a bad file throws a
 * `SafetensorsError` naming the source, the tensor and what was expected.
 *
 * Aligned tensors are views on `bytes` (no copy: they change if `bytes` does); unaligned ones are
 * copied into fresh arrays.
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer, options: ReadSafetensorsOptions = {}): SafetensorsContents {
  const u8 = asBytes(bytes, options.source ?? 'safetensors buffer');
  const { entries, metadata, dataStart } = parseSafetensorsHeader(u8, u8.length, options);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries) {
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data: tensorData(u8, dataStart, entry) });
  }
  return { tensors, metadata };
}

function checkTensor(name: string, tensor: SafetensorsTensor): DtypeInfo {
  const fail = (what: string): never => {
    throw new SafetensorsError(`writeSafetensors: tensor '${name}': ${what}`, 'writeSafetensors', name);
  };
  if (name === '' || name === METADATA_KEY) fail(`'${name}' cannot be a tensor name`);
  if (!isDtype(tensor?.dtype)) {
    fail(`unknown dtype ${JSON.stringify(tensor?.dtype)}; supported dtypes are ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  const info = DTYPES[tensor.dtype];
  if (!Array.isArray(tensor.shape) || tensor.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    fail(`shape must be an array of non-negative integers, got ${JSON.stringify(tensor.shape)}`);
  }
  const data = tensor.data as { constructor?: { name?: string }; length?: number };
  if (data?.constructor?.name !== info.ctor.name) {
    fail(`dtype ${tensor.dtype} needs a ${info.ctor.name}, got ${data?.constructor?.name ?? typeof data}`);
  }
  const elements = tensor.shape.reduce((a, b) => a * b, 1);
  if (data.length !== elements) {
    fail(`shape ${shapeText(tensor.shape)} has ${elements} element(s) but data has ${data.length}`);
  }
  return info;
}

/**
 * Serialise tensors (and optional `__metadata__`) to safetensors bytes exactly as the reference
 * writer does: tensors ordered by dtype alignment (largest first) then name, so every tensor is
 * aligned to its element size; compact JSON header with `__metadata__` first, padded with spaces to
 * a multiple of 8 bytes.
 */
export function writeSafetensors(
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const chunks = safetensorsChunks(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * The bytes of `writeSafetensors` as pieces, without concatenating them: the 8-byte length and
 * padded header first, then each tensor's bytes (views on the tensors' own arrays where possible).
 * Writing these one after another to a file avoids one copy of every weight.
 */
export function safetensorsChunks(
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const list = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  const infos = new Map(list.map(([name, t]) => [name, checkTensor(name, t)]));
  list.sort(([an, a], [bn, b]) => DTYPES[b.dtype].rank - DTYPES[a.dtype].rank || (an < bn ? -1 : an > bn ? 1 : 0));

  // JavaScript objects put integer-like keys ("0", "1") first, so the header JSON is assembled in
  // order by hand rather than by one JSON.stringify of an object.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta: string[] = [];
    for (const key of Object.keys(metadata).sort()) {
      const value = metadata[key];
      if (typeof value !== 'string') {
        throw new SafetensorsError(
          `writeSafetensors: metadata['${key}'] must be a string, got ${JSON.stringify(value)}`,
          'writeSafetensors',
        );
      }
      meta.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const size = t.data.length * infos.get(name)!.bytes;
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += size;
  }
  const json = `{${parts.join(',')}}`;
  const encoded = new TextEncoder().encode(json);
  const padded = encoded.length + ((8 - (encoded.length % 8)) % 8);

  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(encoded, 8);
  head.fill(0x20, 8 + encoded.length);
  return [head, ...list.map(([, t]) => toLittleEndianBytes(t.data))];
}

function toLittleEndianBytes(data: SafetensorsTypedArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(data.byteLength);
  const k = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.byteLength; i += k) for (let j = 0; j < k; j++) out[i + j] = bytes[i + k - 1 - j]!;
  return out;
}

/**
 * Any tensor's elements as float32: F32 is returned as it is (no copy); F16 (IEEE half, including
 * subnormals, infinities and NaN) and BF16 are decoded; F64 and integers are converted (I64
 * through `Number`, so magnitudes past 2^24 lose precision as any float32 does); BOOL gives 0/1.
 */
export function tensorToFloat32(tensor: SafetensorsTensor): Float32Array {
  const { dtype, data } = tensor;
  switch (dtype) {
    case 'F32':
      return data as Float32Array;
    case 'F16':
      return float16ArrayToFloat32(data as Uint16Array);
    case 'BF16': {
      const bits = data as Uint16Array;
      const words = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
      return new Float32Array(words.buffer);
    }
    case 'I64': {
      const big = data as BigInt64Array;
      const out = new Float32Array(big.length);
      for (let i = 0; i < big.length; i++) out[i] = Number(big[i]!);
      return out;
    }
    case 'F64':
    case 'I32':
    case 'I16':
    case 'I8':
    case 'U8':
    case 'BOOL':
      return Float32Array.from(data as ArrayLike<number>);
    default:
      throw new SafetensorsError(
        `tensorToFloat32: unknown dtype ${JSON.stringify(dtype)}; supported dtypes are ${SAFETENSORS_DTYPES.join(', ')}`,
        'tensorToFloat32',
      );
  }
}
