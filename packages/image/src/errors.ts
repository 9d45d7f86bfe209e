/** Why an image could not be read or written. Nothing half-written is left when one is thrown. */
export type ImageErrorCode =
  /** An image reference that names no transport dit knows, or lacks its file or folder. */
  | 'IMAGE_BAD_REFERENCE'
  /** An output that may not be written there (inside the export, a folder that is not an OCI layout, ...). */
  | 'IMAGE_BAD_OUTPUT'
  /** A setting this machine cannot honour (zstd on a Node.js without it) or a bad config value. */
  | 'IMAGE_UNSUPPORTED'
  /** A source image that cannot be read: missing, not an image, a manifest or config that is not one. */
  | 'IMAGE_BAD_SOURCE'
  /** A layer that would write outside its root, or make a device node: refused, nothing extracted outside. */
  | 'IMAGE_HOSTILE_LAYER'
  /** Writing failed (no space, read-only, permission denied). */
  | 'IMAGE_WRITE_FAILED';

export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
