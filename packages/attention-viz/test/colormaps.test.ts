import { describe, expect, it } from 'vitest';
import matplotlib from './fixtures/matplotlib-colormaps.json';
import { COLORMAP_NAMES, checkColormap, colormapColor, colormapIndex, colormapTable, heatmapImage, overlayHeatmap, toRgba } from '../src/index';

describe('colormaps', () => {
  it('match the published matplotlib tables at the endpoints and the midpoint', () => {
    // _cm_listed.py entries 0, 128 and 255 (turbo: Google's table)
    const published: Record<string, number[][]> = {
      viridis: [[0.267004, 0.004874, 0.329415], [0.127568, 0.566949, 0.550556], [0.993248, 0.906157, 0.143936]],
      inferno: [[0.001462, 0.000466, 0.013866], [0.735683, 0.215906, 0.330245], [0.988362, 0.998364, 0.644924]],
      magma: [[0.001462, 0.000466, 0.013866], [0.716387, 0.214982, 0.47529], [0.987053, 0.991438, 0.749504]],
      plasma: [[0.050383, 0.029803, 0.527975], [0.798216, 0.280197, 0.469538], [0.940015, 0.975158, 0.131326]],
      turbo: [[0.18995, 0.07176, 0.23217], [0.64362, 0.98999, 0.23356], [0.4796, 0.01583, 0.01055]],
    };
    for (const [name, rows] of Object.entries(published)) {
      const table = colormapTable(checkColormap(name));
      expect(table.length).toBe(256 * 3);
      [0, 128, 255].forEach((entry, k) => {
        for (let c = 0; c < 3; c++) expect(table[entry * 3 + c]).toBeCloseTo((rows[k] as number[])[c] as number, 6);
      });
    }
  });

  it("agree with matplotlib's own colormap objects at nine points for all seven maps (jet and gray from segment data)", () => {
    expect([...COLORMAP_NAMES].sort()).toEqual(Object.keys(matplotlib.maps).sort());
    for (const name of COLORMAP_NAMES) {
      matplotlib.points.forEach((p, k) => {
        const expected = (matplotlib.maps as Record<string, number[][]>)[name]?.[k] as number[];
        const actual = colormapColor(name, p);
        for (let c = 0; c < 3; c++) expect(actual[c], `${name}(${p})[${c}]`).toBeCloseTo(expected[c] as number, 6);
      });
    }
  });

  it('has jet go from dark blue through green to dark red, and gray from black to white', () => {
    expect(colormapColor('jet', 0)).toEqual([0, 0, 0.5]);
    expect(colormapColor('jet', 1)).toEqual([0.5, 0, 0]);
    expect(colormapColor('gray', 0)).toEqual([0, 0, 0]);
    expect(colormapColor('gray', 1)).toEqual([1, 1, 1]);
    expect(colormapColor('gray', 0.5)[0]).toBeCloseTo(128 / 255, 6);
  });

  it('picks table entries as matplotlib does: floor(v·256), clipped', () => {
    expect(colormapIndex(0)).toBe(0);
    expect(colormapIndex(0.5)).toBe(128);
    expect(colormapIndex(1)).toBe(255);
    expect(colormapIndex(1.7)).toBe(255);
    expect(colormapIndex(-3)).toBe(0);
  });

  it('lists the valid names for an unknown colormap', () => {
    expect(() => checkColormap('rainbow')).toThrow("unknown colormap 'rainbow'; valid: viridis, inferno, magma, plasma, turbo, jet, gray");
  });
});

describe('heatmaps and overlays', () => {
  const map = { data: Float32Array.from([0, 1]), height: 1, width: 2 };

  it('colours the normalised map at the requested size', () => {
    const heat = heatmapImage(map, 1, 2, { colormap: 'gray' });
    expect(Array.from(heat.data)).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    expect(heatmapImage(map, 3, 4).data.length).toBe(3 * 4 * 4);
  });

  it('blends over the original un-normalised pixels with alpha', () => {
    const image = { data: Uint8Array.from([200, 100, 50, 10, 20, 30]), width: 2, height: 1 }; // RGB
    expect(Array.from(overlayHeatmap(image, map, { alpha: 0, colormap: 'gray' }).data)).toEqual([200, 100, 50, 255, 10, 20, 30, 255]);
    expect(Array.from(overlayHeatmap(image, map, { alpha: 1, colormap: 'gray' }).data)).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    // 0.25·colour + 0.75·pixel: pixel 0 → 0.75·[200,100,50]; pixel 1 → 0.75·[10,20,30] + 0.25·255
    expect(Array.from(overlayHeatmap(image, map, { alpha: 0.25, colormap: 'gray' }).data)).toEqual([
      150, 75, 38, 255, 71, 79, 86, 255,
    ]);
  });

  it('upsamples a patch-grid map to the image size before blending', () => {
    const image = { data: new Uint8Array(8 * 8 * 4).fill(255), width: 8, height: 8, channels: 4 as const };
    const out = overlayHeatmap(image, { data: Float32Array.from([0, 0, 0, 1]), height: 2, width: 2 }, { colormap: 'gray', alpha: 1 });
    expect(out.width).toBe(8);
    expect(out.data[0]).toBe(0); // top-left patch
    expect(out.data[(7 * 8 + 7) * 4]).toBe(255); // bottom-right patch
  });

  it('rejects pixels that do not fill the image and alpha outside [0, 1]', () => {
    expect(() => overlayHeatmap({ data: new Uint8Array(5), width: 2, height: 1 }, map)).toThrow(/5 bytes do not fill 2×1×3 \(6 expected\)/);
    expect(() => overlayHeatmap({ data: new Uint8Array(6), width: 2, height: 1 }, map, { alpha: 2 })).toThrow(/alpha must be in \[0, 1\], got 2/);
    expect(toRgba({ data: Uint8Array.from([1, 2, 3]), width: 1, height: 1 }).data).toEqual(Uint8ClampedArray.from([1, 2, 3, 255]));
  });
});
