// Types for scripts/demo-zoo.mjs, so TypeScript tests can build the site's zoo folder.
import type { ZooEntry, ZooManifest } from '../demos/shared/zoo.js';
export declare const ZOO_MANIFEST_FORMAT: string;
export declare function defaultZooDir(): string;
export declare function zooEntry(zooDir: string, model: string): ZooEntry | null;
export declare function zooManifest(zooDir: string): ZooManifest;
export declare function markdownToHtml(md: string, link: (url: string) => string | null): string;
export declare function cardsPage(zooDir: string, models: string[], manifest?: ZooManifest): string;
export declare function buildZooSite(zooDir: string, outDir: string): ZooManifest;
