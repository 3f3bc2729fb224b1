// Writes the manifest for dist/: the source manifest.json, plus the
// production panel origins named in PANEL_ORIGINS (space separated, e.g.
// "https://panel.contoso.com"), and without the development `key` when
// packaging for a store (the store assigns its own).
//
// usage: node extension/build/manifest.mjs SRC DEST [--store]
import { readFileSync, writeFileSync } from 'node:fs';

const [src, dest, flag] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(src, 'utf8'));
for (const origin of (process.env.PANEL_ORIGINS || '').split(/\s+/).filter(Boolean)) {
  let url;
  try { url = new URL(origin); } catch { console.error(`PANEL_ORIGINS: ${origin} is not a URL`); process.exit(2); }
  if (url.protocol !== 'https:') { console.error(`PANEL_ORIGINS: ${origin} must be https`); process.exit(2); }
  const pattern = `https://${url.hostname}/*`;
  if (!manifest.externally_connectable.matches.includes(pattern)) manifest.externally_connectable.matches.push(pattern);
}
if (flag === '--store') delete manifest.key;
writeFileSync(dest, JSON.stringify(manifest, null, 2) + '\n');
