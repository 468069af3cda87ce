// Node-only file helpers: crash-safe writes (temp file in the same directory, fsync, rename) and
// safetensors load/save with errors that name the path. A checkpoint killed mid-write leaves the
// previous file intact rather than a truncated one.

import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink, readFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';

function tempPathFor(path: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${rand}.tmp`);
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err && err.code ? `${err.code}: ${err.message}` : String((e as Error)?.message ?? e);
}

/** Flush the directory entry so the rename itself survives a power cut. Not possible on every platform. */
function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open directories; some filesystems refuse fsync on them. The data itself is synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write `bytes` to `path` atomically: readers see either the old file or the complete new one. Creates parent dirs. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new Error(`cannot write '${path}': ${describe(e)}`);
  }
  fsyncDirSync(dir);
}

/** Synchronous twin of writeFileAtomic, for exit handlers and simple scripts. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* temp file may not exist */
    }
    throw new Error(`cannot write '${path}': ${describe(e)}`);
  }
  fsyncDirSync(dir);
}

export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = encodeSafetensors(tensors, metadata);
  } catch (e) {
    throw new Error(`cannot save '${path}': ${(e as Error).message}`);
  }
  await writeFileAtomic(path, bytes);
}

export async function loadSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read safetensors file '${path}': ${describe(e)}`);
  }
  return decodeSafetensors(bytes, `safetensors file '${path}'`);
}

export function loadSafetensorsFileSync(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read safetensors file '${path}': ${describe(e)}`);
  }
  return decodeSafetensors(bytes, `safetensors file '${path}'`);
}
