import type { ExportOptions, ExportReport } from '@dit/exporter';
import { exportAsImages, type ImageReference, type ImageSettings, type WrittenImage } from '@dit/image';
import type { Io } from '../io.js';

/**
 * `dit export --image`: the export (in --path, or staged in a temporary folder) written as an image
 * to every --image. The images are said on stderr (the summary line on stdout stays the export's).
 */
export async function exportWithImages(
  options: ExportOptions,
  image: { references: readonly ImageReference[]; settings: ImageSettings },
  io: Io,
): Promise<ExportReport> {
  const setEnv = (options as { setEnv?: Readonly<Record<string, string>> }).setEnv ?? {};
  const { report, images } = await exportAsImages({
    ...options,
    path: options.path as string | undefined,
    images: image.references,
    image: {
      ...image.settings,
      // --env sets the check's variables and the image's Env alike (the check runs as the image will).
      env: [
        ...Object.entries(setEnv).map(([key, value]) => `${key}=${value}`),
        ...(image.settings.env ?? []),
      ],
    },
  });
  if (report.verification !== null && !report.verification.ok) {
    io.stderr(`dit: export: no image written: the command does not run inside the export\n`);
  }
  // The images and their digests are a result, not progress: said even with --quiet.
  for (const line of imageLines(images)) io.stderr(`dit: ${line}\n`);
  return report;
}

/** One line per image: where, and the digests a user compares (manifest, image ID). */
export function imageLines(images: readonly WrittenImage[]): string[] {
  return images.map(
    (written) =>
      `wrote ${written.reference}: ${written.manifestDigest === null ? '' : `manifest ${written.manifestDigest}, `}image ID ${written.configDigest}, layer ${(written.layer.size / 1024 / 1024).toFixed(1)} MiB`,
  );
}
