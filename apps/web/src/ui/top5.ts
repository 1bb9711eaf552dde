import type { Prediction } from '../analyze';
import { el } from './dom';

/**
 * The top-k classes as a bar chart: one `<li data-class-index data-probability>` per class.
 * `target` (the class of the gradient map) is highlighted; clicking a row calls `onSelect`.
 */
export function renderTop5(list: HTMLOListElement, top: readonly Prediction[], target: number, onSelect: (classIndex: number) => void): void {
  list.replaceChildren(
    ...top.map((p) => {
      const row = el('li');
      row.dataset.classIndex = String(p.classIndex);
      row.dataset.probability = String(p.probability);
      row.title = `gradient-weighted map for '${p.label}'`;
      if (p.classIndex === target) row.classList.add('target');
      const track = el('span', 'track');
      const fill = el('span', 'fill');
      fill.style.width = `${Math.max(0, Math.min(1, p.probability)) * 100}%`;
      fill.style.display = 'block';
      track.append(fill);
      row.append(el('span', 'label', p.label), track, el('span', 'value', `${(p.probability * 100).toFixed(1)}%`));
      row.addEventListener('click', () => onSelect(p.classIndex));
      return row;
    }),
  );
}
