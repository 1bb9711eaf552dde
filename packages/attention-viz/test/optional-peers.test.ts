import { describe, expect, it } from 'vitest';
import { missingPeerError } from '../src/node/optional';

describe('optional peers of the Node entry', () => {
  it('a missing one is named with what needs it and the command that installs it', () => {
    expect(missingPeerError('pngjs', 'writePng').message).toBe(
      "writePng: 'pngjs' is not installed; @vitlens/attention-viz/node needs this optional peer dependency for PNG encoding and decoding " +
        '(encodePng, decodePng, readPng, writePng, writeVisualization): npm install pngjs',
    );
    expect(missingPeerError('dejavu-fonts-ttf', 'renderFigure').message).toMatch(/: npm install @napi-rs\/canvas dejavu-fonts-ttf$/);
  });
});
