import { describe, expect, it } from 'vitest';
import { checkSchedule, learningRateAt } from '../src/index';

describe('learning-rate schedules', () => {
  it('constant stays at lr after a linear warmup that starts at lr/warmup', () => {
    const s = { kind: 'constant' as const, lr: 0.1, totalSteps: 100, warmupSteps: 4 };
    const expected: [number, number][] = [[0, 0.025], [1, 0.05], [2, 0.075], [3, 0.1], [4, 0.1], [50, 0.1], [99, 0.1]];
    for (const [step, lr] of expected) expect(learningRateAt(s, step)).toBeCloseTo(lr, 15);
  });

  it('cosine peaks after warmup, halves at the midpoint of the decay and ends at minLr', () => {
    const s = { kind: 'cosine' as const, lr: 1e-3, totalSteps: 110, warmupSteps: 10, minLr: 1e-5 };
    expect(learningRateAt(s, 9)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(s, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(s, 60)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) / 2, 12);
    expect(learningRateAt(s, 35)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(learningRateAt(s, 110)).toBeCloseTo(1e-5, 12);
    expect(learningRateAt(s, 500)).toBeCloseTo(1e-5, 12);
  });

  it('linear decays in a straight line from lr to 0 after the warmup', () => {
    const s = { kind: 'linear' as const, lr: 2, totalSteps: 12, warmupSteps: 2 };
    expect([0, 1, 2, 7, 12].map((t) => learningRateAt(s, t))).toEqual([1, 2, 2, 1, 0]);
  });

  it('is monotone non-increasing after warmup for cosine and linear', () => {
    for (const kind of ['cosine', 'linear'] as const) {
      const s = { kind, lr: 1, totalSteps: 50, warmupSteps: 5 };
      for (let t = 5; t < 60; t++) expect(learningRateAt(s, t + 1)).toBeLessThanOrEqual(learningRateAt(s, t));
    }
  });

  it('rejects bad options naming the field and the valid values', () => {
    expect(() => checkSchedule({ kind: 'step' as never, lr: 1, totalSteps: 1 })).toThrow(/'step' is not a schedule; valid kinds are constant, cosine, linear/);
    expect(() => checkSchedule({ kind: 'cosine', lr: 0, totalSteps: 1 })).toThrow(/schedule.lr: expected a positive number/);
    expect(() => checkSchedule({ kind: 'cosine', lr: 1, totalSteps: 10, warmupSteps: -1 })).toThrow(/warmupSteps/);
    expect(() => checkSchedule({ kind: 'cosine', lr: 1, totalSteps: 10, minLr: 2 })).toThrow(/minLr: expected a number in \[0, lr=1\]/);
  });
});
