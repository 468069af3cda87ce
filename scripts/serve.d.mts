// Types for scripts/serve.mjs, so TypeScript tests can import the static server.
export declare const MIME_TYPES: Record<string, string>;
export interface StaticServer {
  /** http://localhost:<port>/ */
  url: string;
  port: number;
  close(): Promise<void>;
}
export declare function startServer(
  root: string,
  port?: number,
  options?: { crossOriginIsolated?: boolean; quiet?: boolean },
): Promise<StaticServer>;
