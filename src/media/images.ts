// Every image we store is decoded and encoded again: that drops EXIF, GPS and
// every other piece of metadata (a photo taken at a clinic says where you
// were), applies the camera's orientation first, bounds its size, and turns
// whatever arrived into one of two plain formats we serve.
import sharp, { type Metadata } from "sharp";
import { invalid } from "../errors.ts";

// Decoded images held in memory would otherwise add up on a small server.
sharp.cache(false);

export interface ImageLimits {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Longest side after resizing, in pixels. */
  maxSide: number;
  /** A PNG stays a PNG even without transparency (avatars: often drawn, where JPEG blurs edges). */
  keepPng?: boolean;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 10 * 1024 * 1024, maxSide: 2048 };

/** Decompression bombs: an image claiming more pixels than a 60-megapixel photo is refused before decoding. */
const MAX_INPUT_PIXELS = 60_000_000;
const ACCEPTED = new Set(["jpeg", "png", "webp", "gif", "avif", "heif", "tiff"]);

export interface ProcessedImage {
  bytes: Buffer;
  mediaType: "image/jpeg" | "image/png";
  ext: "jpg" | "png";
  width: number;
  height: number;
}

/**
 * Re-encodes an image: JPEG for photos, PNG when it has transparency. Throws
 * a validation error (a 400 with a reason) for anything that isn't an image
 * we can read, or is too large.
 */
export async function processImage(
  input: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  field = "image",
): Promise<ProcessedImage> {
  const refuse = (reason: string) => invalid(`${field}: ${reason}`, { [field]: reason });
  if (input.byteLength === 0) throw refuse("is empty");
  if (input.byteLength > limits.maxBytes)
    throw refuse(`must be at most ${Math.floor(limits.maxBytes / (1024 * 1024))} MiB`);
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (error) {
    // sharp refuses an image declaring more pixels than the bound before decoding it.
    if (/pixel limit/i.test(String(error))) throw refuse("has too many pixels");
    throw refuse("must be a JPEG, PNG, GIF, WebP or AVIF image");
  }
  if (!meta.format || !ACCEPTED.has(meta.format)) throw refuse("must be a JPEG, PNG, GIF, WebP or AVIF image");
  if ((meta.width ?? 0) * (meta.height ?? 0) > MAX_INPUT_PIXELS) throw refuse("has too many pixels");
  const png = meta.hasAlpha === true || (limits.keepPng === true && meta.format === "png");
  try {
    // `rotate()` with no angle applies the EXIF orientation; nothing of the metadata is written back.
    const pipeline = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" })
      .timeout({ seconds: 30 })
      .rotate()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: "inside", withoutEnlargement: true });
    const { data, info } = await (png
      ? pipeline.png({ compressionLevel: 9, palette: false })
      : pipeline.flatten({ background: "#ffffff" }).jpeg({ quality: 82, mozjpeg: true })
    ).toBuffer({ resolveWithObject: true });
    return {
      bytes: data,
      mediaType: png ? "image/png" : "image/jpeg",
      ext: png ? "png" : "jpg",
      width: info.width,
      height: info.height,
    };
  } catch {
    throw refuse("could not be read as an image (damaged or unsupported)");
  }
}
