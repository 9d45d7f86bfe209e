/**
 * @dit/image: container images written and read by dit itself, without a daemon: an export as a
 * one-layer OCI image (`oci:`, `oci-archive:`, `docker-archive:`), reproducible byte for byte.
 */
export {
  compactRun,
  createdAt,
  type HistoryEntry,
  type ImageConfig,
  imageConfig,
  type Platform,
  platformOf,
  type RunConfig,
} from './config.js';
export { ImageError, type ImageErrorCode } from './errors.js';
export {
  exportAsImages,
  type ImageExportOptions,
  type ImageExportResult,
  type ImageSettings,
  listenedPorts,
  runConfig,
} from './export-image.js';
export {
  type Compression,
  LAYER_MEDIA_TYPES,
  type Layer,
  type LayerOptions,
  writeLayer,
  zstdAvailable,
} from './layer.js';
export { type MinifyOptions, minifyImage } from './minify.js';
export { readImage, type SourceImage } from './read.js';
export { formatImageReference, type ImageReference, parseImageReference } from './reference.js';
export { checkImageTargets } from './targets.js';
export { unpackLayers } from './unpack.js';
export { type WriteImageOptions, type WrittenImage, writeImage } from './write.js';
