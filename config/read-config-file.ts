/** Reading one configuration file: size-capped, strictly UTF-8, and a directory or bad bytes reported with the path. */
import { open } from 'node:fs/promises';

/**
 * Largest configuration file read (instance.yaml, .env, each data description): 4 MiB. A real data description
 * of thousands of tables is well under it; a 100 MB instance.yaml would take minutes and gigabytes to parse.
 */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

/** A file's text, or why it cannot be used (`line` for bad bytes), or `missing`. */
export type ConfigFileRead = { text: string } | { problem: string; line?: number } | { missing: true };

/** Reads `file` as UTF-8 text; ENOENT/ENOTDIR mean missing; other I/O errors are thrown. */
export async function readConfigFile(file: string): Promise<ConfigFileRead> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { missing: true };
    throw err;
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) return { problem: 'is a directory, not a file; it must be a text file' };
    if (!info.isFile()) return { problem: 'is not a regular file' };
    if (info.size > MAX_CONFIG_FILE_BYTES) {
      return { problem: `is ${info.size} bytes; config files may be at most ${MAX_CONFIG_FILE_BYTES} bytes (4 MiB), see docs/configuration.md` };
    }
    // Read one byte past the limit: a file that grew after stat is still refused.
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_CONFIG_FILE_BYTES) return { problem: `is larger than ${MAX_CONFIG_FILE_BYTES} bytes, the most a config file may have` };
    return decodeUtf8(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** Strict UTF-8 (a leading BOM dropped); the first invalid byte is named with its line. */
function decodeUtf8(bytes: Buffer): ConfigFileRead {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const byte = bytes[offset]!.toString(16).toUpperCase().padStart(2, '0');
    return { problem: `is not valid UTF-8: byte 0x${byte} at byte offset ${offset} (Latin-1 or Windows-1252?); save the file as UTF-8`, line };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    for (let k = 1; k < length; k++) {
      if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    }
    // The one valid decoding of the sequence decides overlongs and surrogates.
    if (new TextDecoder('utf-8').decode(bytes.subarray(i, i + length)).includes('\uFFFD')) return i;
    i += length;
  }
  return bytes.length;
}
