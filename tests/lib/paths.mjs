// Where things are, relative to the repository.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist/extension');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const BIN = (name) => path.join(ROOT, 'target', process.env.PROFILE || 'debug', name);

// The manifest's `key` fixes the extension id (see README).
export const EXTENSION_ID = 'hecbpkpmfjdaabfmannfjnghmhoijkgp';
