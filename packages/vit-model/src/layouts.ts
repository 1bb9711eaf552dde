import { ConfigError, type ModelType, type ViTConfig } from './config';

/**
 * The Hugging Face architectures vitlens loads and saves. They share one encoder; a layout says
 * where its weights live in the state dict and which tokens and heads surround it.
 */
export type Architecture =
  | 'ViTForImageClassification'
  | 'ViTModel'
  | 'DeiTForImageClassification'
  | 'DeiTForImageClassificationWithTeacher'
  | 'DeiTModel';

export const ARCHITECTURES: readonly Architecture[] = [
  'ViTForImageClassification',
  'ViTModel',
  'DeiTForImageClassification',
  'DeiTForImageClassificationWithTeacher',
  'DeiTModel',
];

/** A linear head on one token of the final LayerNorm's output. */
export interface HeadSpec {
  /** HF module name: 'classifier', 'cls_classifier', 'distillation_classifier'. */
  name: string;
  /** The token it reads: 0 = CLS, 1 = DeiT's distillation token. */
  token: number;
}

/** One architecture's state-dict layout (as modeling_vit.py / modeling_deit.py name it). */
export interface Layout {
  architecture: Architecture;
  modelType: ModelType;
  /** Prefix of the encoder's keys: 'vit.', 'deit.', or '' for a bare ViTModel / DeiTModel. */
  prefix: string;
  /** Linear heads; their logits are averaged (DeiT with teacher: (cls + distillation) / 2). Empty: headless. */
  heads: readonly HeadSpec[];
  /** The bare models' pooler (`pooler.dense`, tanh on the CLS token); HF's ViTModel/DeiTModel have one by default. */
  pooler: boolean;
}

const LAYOUTS: Record<Architecture, Omit<Layout, 'pooler'>> = {
  ViTForImageClassification: { architecture: 'ViTForImageClassification', modelType: 'vit', prefix: 'vit.', heads: [{ name: 'classifier', token: 0 }] },
  ViTModel: { architecture: 'ViTModel', modelType: 'vit', prefix: '', heads: [] },
  DeiTForImageClassification: { architecture: 'DeiTForImageClassification', modelType: 'deit', prefix: 'deit.', heads: [{ name: 'classifier', token: 0 }] },
  DeiTForImageClassificationWithTeacher: {
    architecture: 'DeiTForImageClassificationWithTeacher',
    modelType: 'deit',
    prefix: 'deit.',
    heads: [
      { name: 'cls_classifier', token: 0 },
      { name: 'distillation_classifier', token: 1 },
    ],
  },
  DeiTModel: { architecture: 'DeiTModel', modelType: 'deit', prefix: '', heads: [] },
};

/** The layout of an architecture; `pooler` applies to the bare models only. */
export function layoutOf(architecture: Architecture, pooler = true): Layout {
  const base = LAYOUTS[architecture];
  if (!base) throw new ConfigError(`unknown architecture '${String(architecture)}'; valid: ${ARCHITECTURES.join(', ')}`);
  return { ...base, heads: base.heads.map((h) => ({ ...h })), pooler: base.heads.length === 0 && pooler };
}

export function isArchitecture(name: unknown): name is Architecture {
  return typeof name === 'string' && (ARCHITECTURES as readonly string[]).includes(name);
}

/** The family's classifier (`ViTModel` → `ViTForImageClassification`), for giving a backbone a head. */
export function classifierOf(architecture: Architecture): Architecture {
  if (architecture === 'ViTModel') return 'ViTForImageClassification';
  if (architecture === 'DeiTModel') return 'DeiTForImageClassification';
  return architecture;
}

/**
 * The architecture a config asks for: its first known `architectures` entry, checked against
 * `model_type`; without one, the family's classifier (what vitlens creates by default).
 */
export function architectureOf(config: Pick<ViTConfig, 'model_type' | 'architectures'>, source = 'config'): Architecture {
  const named = config.architectures?.find(isArchitecture);
  const fallback: Architecture = config.model_type === 'deit' ? 'DeiTForImageClassification' : 'ViTForImageClassification';
  if (named === undefined) return fallback;
  if (LAYOUTS[named].modelType !== config.model_type) {
    throw new ConfigError(`${source}: architectures names ${named}, which is a "${LAYOUTS[named].modelType}" model, but model_type is "${config.model_type}"`);
  }
  return named;
}
