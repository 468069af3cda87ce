// Node-only file helpers: crash-safe writes (temp file in the same directory, fsync, rename) and
// safetensors load/save with errors that name the path. A checkpoint killed mid-write leaves the
// previous file intact rather than a truncated one.

import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { open, rename, unlink, readFile } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';

function tempPathFor(path: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${rand}.tmp`);
}

/**
 * A file-system error as "CODE: what happened" without Node's repeated code and trailing
 * "syscall 'path'" (the caller names the path): "ENOSPC: no space left on device".
 */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const msg = String(err?.message ?? e);
  if (!err || !err.code) return msg;
  const body = msg.startsWith(`${err.code}: `) ? msg.slice(err.code.length + 2) : msg;
  const what = err.syscall && body.includes(`, ${err.syscall}`) ? body.slice(0, body.indexOf(`, ${err.syscall}`)) : body;
  return `${err.code}: ${what}`;
}
const describe = describeFsError;

/**
 * mkdir -p, one level at a time. Node's recursive mkdirSync never returns for some paths (under
 * /proc it retries forever) and reports ENOENT for others it cannot create; this reports the real
 * reason for the first directory that cannot be made.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    try {
      if (!statSync(d).isDirectory()) {
        const e = new Error(`ENOTDIR: not a directory, mkdir '${d}'`) as NodeJS.ErrnoException;
        e.code = 'ENOTDIR';
        e.syscall = 'mkdir';
        throw e;
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

const TEMP_NAME = /^\..+\.(\d+)\.[a-z0-9]+\.tmp$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that writeFileAtomic left in `dir` when its process was killed mid-write
 * (".<name>.<pid>.<random>.tmp" of a process that no longer runs). Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, n));
      removed.push(n);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
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
    makeDirs(dir);
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
    makeDirs(dir);
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
