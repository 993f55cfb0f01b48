// Expands JSON-LD documents with jsonld.js and fails on any term no context defines. Safe mode alone
// does not catch them: the ActivityStreams context sets "@vocab": "_:", so an undefined term expands to
// a blank-node property ("_:term") rather than being dropped; those are looked for after expansion.
// Used by Fellows' tests to check the deliberation context against a real JSON-LD processor.
//
//   node expand-jsonld.mjs <fellows instance base URL> <file.json>...
//
// The Fellows context (any URL ending in /ns/fellows) is fetched from the given instance over HTTP;
// the ActivityStreams and security contexts come from Fedify's preloaded copies, so nothing else is
// fetched. jsonld and @fedify/vocab-runtime are dependencies of @fedify/fedify, installed beside it.
// Prints one JSON line per file: {"file", "ok", "error"?, "fellowsTerms"?}; exits 1 if any failed.
import fs from 'node:fs';
import jsonld from 'jsonld';
import { preloadedContexts } from '@fedify/vocab-runtime';

const [base, ...files] = process.argv.slice(2);
const fetched = new Map();

async function documentLoader(url) {
  if (url.endsWith('/ns/fellows')) {
    if (!fetched.has(url)) {
      const response = await fetch(`${base}/ns/fellows`);
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !type.startsWith('application/ld+json')) {
        throw new Error(`context answered ${response.status} ${type}`);
      }
      fetched.set(url, await response.json());
    }
    return { contextUrl: null, documentUrl: url, document: fetched.get(url) };
  }
  if (url in preloadedContexts) {
    return { contextUrl: null, documentUrl: url, document: preloadedContexts[url] };
  }
  throw new Error(`no offline copy of ${url}`);
}

let failed = 0;
for (const file of files) {
  try {
    const expanded = await jsonld.expand(JSON.parse(fs.readFileSync(file, 'utf8')), { documentLoader, safe: true });
    const undefinedTerms = new Set();
    (function walk(node) {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key.startsWith('_:')) undefinedTerms.add(key.slice(2));
          walk(value);
        }
      }
    })(expanded);
    if (undefinedTerms.size > 0) throw new Error(`undefined terms: ${[...undefinedTerms].sort().join(', ')}`);
    const terms = new Set(JSON.stringify(expanded).match(/https:\/\/w3id\.org\/fellows\/ns#\w+/g) ?? []);
    console.log(JSON.stringify({ file, ok: true, fellowsTerms: terms.size }));
  } catch (error) {
    failed++;
    console.log(JSON.stringify({ file, ok: false, error: `${error.name}: ${error.message} ${JSON.stringify(error.details ?? {}).slice(0, 300)}` }));
  }
}
process.exit(failed ? 1 : 0);
