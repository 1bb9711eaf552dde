// Node-only part of @vitlens/attention-viz: PNG files, the labelled figure, one call for all maps of an image.
export { decodePng, encodePng, readPng, writePng } from './png';
export { renderFigure, type FigureOptions, type FigureTile } from './figure';
export { writeVisualization, type QueryToken, type VisualizationFile, type VisualizationOptions, type VisualizationResult } from './report';
