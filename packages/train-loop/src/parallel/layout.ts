import { tf } from '@vitlens/core';

/** Where each parameter lives in a flat float32 buffer shared by every replica. */
export interface ParamLayout {
  names: string[];
  shapes: number[][];
  /** Start of each parameter, in floats. */
  offsets: number[];
  /** Floats in all. */
  total: number;
}

export function paramLayout(params: Map<string, tf.Variable>): ParamLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  const offsets: number[] = [];
  let total = 0;
  for (const [name, v] of params) {
    if (v.dtype !== 'float32') throw new Error(`WorkerGradientEngine: parameter '${name}' is ${v.dtype}; only float32 parameters can be shared`);
    names.push(name);
    shapes.push([...v.shape]);
    offsets.push(total);
    total += v.size;
  }
  return { names, shapes, offsets, total };
}

/** Fail with the first difference when a replica's parameters do not match the layout. */
export function checkLayout(layout: ParamLayout, params: Map<string, tf.Variable>, where: string): void {
  if (params.size !== layout.names.length) {
    throw new Error(`${where}: replica has ${params.size} parameters, the main model ${layout.names.length}`);
  }
  layout.names.forEach((name, i) => {
    const v = params.get(name);
    if (v === undefined) throw new Error(`${where}: replica has no parameter '${name}'`);
    const want = layout.shapes[i] as number[];
    if (v.shape.join(',') !== want.join(',')) {
      throw new Error(`${where}: parameter '${name}' is [${v.shape.join(', ')}] in the replica, [${want.join(', ')}] in the main model`);
    }
  });
}

/** Copy every parameter's values into `view` (main thread, after an optimizer step). */
export async function writeParams(layout: ParamLayout, params: Map<string, tf.Variable>, view: Float32Array): Promise<void> {
  for (let i = 0; i < layout.names.length; i++) {
    const v = params.get(layout.names[i] as string) as tf.Variable;
    view.set((await v.data()) as Float32Array, layout.offsets[i]);
  }
}

/** Assign every parameter from `view` (replica), one small tidy per variable. */
export function readParams(layout: ParamLayout, params: Map<string, tf.Variable>, view: Float32Array): void {
  for (let i = 0; i < layout.names.length; i++) {
    const v = params.get(layout.names[i] as string) as tf.Variable;
    const start = layout.offsets[i] as number;
    tf.tidy(() => v.assign(tf.tensor(view.subarray(start, start + v.size), v.shape, 'float32')));
  }
}
