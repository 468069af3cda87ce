#!/usr/bin/env node
// A tiny static file server (node:http, no dependencies) for the built demos and the browser tests.
//
//   node scripts/serve.mjs [root] [--port N] [--coi]
//     root    directory to serve (default dist/demos); --port 0 picks a free port (default 8080);
//     --coi   send COOP/COEP headers (cross-origin isolation, needed for SharedArrayBuffer).
//
// As a module: `const { url, close } = await startServer(root, port = 0, { crossOriginIsolated })`.
// Serves on 127.0.0.1 only (WebGPU needs a secure context: localhost counts). A directory URL
// serves its index.html; paths that escape the root are refused.
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wgsl': 'text/wgsl; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/**
 * Serve `root` over http on 127.0.0.1. Resolves once listening.
 * @param {string} root directory to serve
 * @param {number} [port=0] 0 picks a free port
 * @param {{ crossOriginIsolated?: boolean, quiet?: boolean }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function startServer(root, port = 0, options = {}) {
  const base = path.resolve(root);
  const { crossOriginIsolated = false, quiet = true } = options;

  const server = http.createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    let file = path.join(base, pathname);
    if (file !== base && !file.startsWith(base + path.sep)) return send(403, 'forbidden\n');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        // Redirect /dir to /dir/ so relative URLs inside its index.html resolve correctly.
        if (!pathname.endsWith('/')) {
          res.writeHead(301, { Location: pathname + '/' });
          return res.end();
        }
        file = path.join(file, 'index.html');
        info = await stat(file);
      }
      const headers = {
        'Content-Type': MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': info.size,
        'Cache-Control': 'no-store',
      };
      if (crossOriginIsolated) {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch {
      send(404, `not found: ${pathname}\n`);
    } finally {
      if (!quiet) console.log(`${req.method} ${pathname} ${res.statusCode}`);
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://localhost:${actualPort}/`,
    port: actualPort,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}

function parseArgs(argv) {
  const args = { root: null, port: 8080, coi: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port' || a === '-p') args.port = Number(argv[++i]);
    else if (a.startsWith('--port=')) args.port = Number(a.slice('--port='.length));
    else if (a === '--coi') args.coi = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/serve.mjs [root] [--port N] [--coi]');
      process.exit(0);
    } else if (!a.startsWith('-') && args.root === null) args.root = a;
    else {
      console.error(`serve: unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    console.error('serve: --port needs an integer 0..65535');
    process.exit(2);
  }
  return args;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const args = parseArgs(process.argv.slice(2));
  const root = path.resolve(args.root ?? path.join(repoRoot, 'dist', 'demos'));
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    console.error(`serve: ${root} is not a directory (build it first: node scripts/build.mjs demos)`);
    process.exit(1);
  }
  const server = await startServer(root, args.port, { crossOriginIsolated: args.coi, quiet: false }).catch((err) => {
    console.error(`serve: cannot listen on port ${args.port}: ${err.code ?? err.message} (try --port 0)`);
    process.exit(1);
  });
  const { url, close } = server;
  console.log(`serving ${path.relative(process.cwd(), root) || '.'} at ${url}  (Ctrl+C to stop)`);
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
