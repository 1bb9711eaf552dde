import { describe, expect, it } from 'vitest';
import { classNames, parseConfig } from '../src/index';

const base = { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, image_size: 8, patch_size: 4 };

describe('config.json num_labels', () => {
  it('sizes generic labels when id2label is absent, as Hugging Face does', () => {
    expect(classNames(parseConfig({ ...base, num_labels: 4 }, 'c.json'))).toEqual(['LABEL_0', 'LABEL_1', 'LABEL_2', 'LABEL_3']);
    expect(classNames(parseConfig(base, 'c.json'))).toEqual(['LABEL_0', 'LABEL_1']); // HF's default of 2
  });

  it('refuses a num_labels that is not a positive integer or disagrees with id2label, naming the file', () => {
    expect(() => parseConfig({ ...base, num_labels: 0 }, 'c.json')).toThrow('c.json: num_labels must be a positive integer, got 0');
    expect(() => parseConfig({ ...base, num_labels: '3' }, 'c.json')).toThrow('c.json: num_labels must be a positive integer, got "3"');
    expect(() => parseConfig({ ...base, num_labels: 3, id2label: { 0: 'cat', 1: 'dog' } }, 'c.json')).toThrow(
      'c.json: num_labels is 3 but id2label has 2 labels',
    );
    expect(classNames(parseConfig({ ...base, num_labels: 2, id2label: { 0: 'cat', 1: 'dog' } }, 'c.json'))).toEqual(['cat', 'dog']);
  });
});
