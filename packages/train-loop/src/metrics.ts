/** Per-class figures of an evaluation. */
export interface ClassAccuracy {
  name: string;
  correct: number;
  total: number;
  /** correct / total; null when the class has no images. */
  accuracy: number | null;
}

/** Classification metrics of one pass over a split. */
export interface ClassificationMetrics {
  count: number;
  accuracy: number;
  top5: number;
  meanLoss: number;
  perClass: ClassAccuracy[];
  /** `confusion[true][predicted]` image counts. */
  confusion: number[][];
}

/** Accumulates predictions batch by batch; `result()` gives the metrics. */
export class MetricsAccumulator {
  private readonly confusion: number[][];
  private count = 0;
  private correct = 0;
  private top5Hits = 0;
  private lossSum = 0;

  constructor(readonly classNames: readonly string[]) {
    this.confusion = classNames.map(() => classNames.map(() => 0));
  }

  /**
   * Add one batch: `labels [B]`, `topk [B, k]` class indices by decreasing score (k ≤ 5, first is
   * the prediction), `losses [B]` per-example cross-entropy.
   */
  add(labels: ArrayLike<number>, topk: ArrayLike<number>, k: number, losses: ArrayLike<number>): void {
    const n = labels.length;
    if (topk.length !== n * k) throw new Error(`MetricsAccumulator.add: topk has ${topk.length} values, expected ${n}×${k}`);
    if (losses.length !== n) throw new Error(`MetricsAccumulator.add: ${losses.length} losses for ${n} labels`);
    for (let i = 0; i < n; i++) {
      const label = labels[i]!;
      const predicted = topk[i * k]!;
      const row = this.confusion[label];
      if (row === undefined || row[predicted] === undefined) {
        throw new RangeError(`MetricsAccumulator.add: label ${label} or prediction ${predicted} is outside 0..${this.classNames.length - 1}`);
      }
      row[predicted]! += 1;
      if (predicted === label) this.correct++;
      for (let j = 0; j < Math.min(5, k); j++) {
        if (topk[i * k + j] === label) {
          this.top5Hits++;
          break;
        }
      }
      this.lossSum += losses[i]!;
    }
    this.count += n;
  }

  result(): ClassificationMetrics {
    const perClass = this.classNames.map((name, c) => {
      const row = this.confusion[c]!;
      const total = row.reduce((a, b) => a + b, 0);
      const correct = row[c]!;
      return { name, correct, total, accuracy: total > 0 ? correct / total : null };
    });
    const n = Math.max(1, this.count);
    return {
      count: this.count,
      accuracy: this.correct / n,
      top5: this.top5Hits / n,
      meanLoss: this.lossSum / n,
      perClass,
      confusion: this.confusion.map((r) => [...r]),
    };
  }
}
