// Runs one scenario of a real client library against a Fellows server and prints what the library decoded.
//
//   node run.mjs < request.json
//
// The request is {"library": "masto" | "megalodon", "scenario": "...", "baseUrl": "http://127.0.0.1:N",
// "members": {"name": {"token", "id", "acct"}}, "args": {...}}. The answer, on stdout, is one JSON line:
// {"ok": true, "result": ...} or {"ok": false, "error", "status"?, "body"?, "stack"}. The exit code is 0 either
// way once a request was read, so the test reads the failure from the answer.

import * as masto from "./masto.mjs";
import * as megalodon from "./megalodon.mjs";

const libraries = { masto, megalodon };

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function describe(error) {
  const answer = { ok: false, error: `${error?.name ?? "Error"}: ${error?.message ?? String(error)}`, stack: error?.stack };
  // masto: MastoHttpError {statusCode, additionalProperties}; megalodon/axios: error.response {status, data}.
  if (error?.statusCode !== undefined) answer.status = error.statusCode;
  if (error?.response?.status !== undefined) {
    answer.status = error.response.status;
    answer.body = error.response.data;
    answer.url = error.config?.url;
  }
  return answer;
}

const request = await readStdin();
const library = libraries[request.library];
const scenario = library?.[request.scenario];
let answer;
if (typeof scenario !== "function") {
  answer = { ok: false, error: `No scenario ${request.library}.${request.scenario}` };
} else {
  try {
    answer = { ok: true, result: await scenario(request) };
  } catch (error) {
    answer = describe(error);
  }
}
process.stdout.write(JSON.stringify(answer) + "\n");
// A scenario closes what it opened, so Node exits by itself; if a handle is left (a WebSocket, a timer) the answer is
// out regardless: name the handles on stderr and exit rather than keep the test waiting.
setTimeout(() => {
  process.stderr.write(`run.mjs: still open after the answer: ${process.getActiveResourcesInfo().join(", ")}\n`);
  process.exit(0);
}, 2000).unref();
