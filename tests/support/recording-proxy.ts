// A pass-through HTTP proxy between the service and the emulator that remembers every secret the two
// exchange (tokens, codes, verifiers, secrets, in JSON bodies and form bodies alike), so a test can
// search everything the service wrote for them. The emulator mints random tokens; this is how a test
// learns them without reading the emulator's insides.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

const SECRET_FIELD = /(token|secret|code|verifier|ticket)$/i;
const DROPPED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "content-encoding",
]);

export interface RecordingProxy {
  readonly url: string;
  /** Every secret value seen so far, in requests and answers. */
  readonly secrets: Set<string>;
  close(): Promise<void>;
}

function collect(value: unknown, into: Set<string>, key = ""): void {
  if (typeof value === "string") {
    // Short values (a "0" code, "Bearer") are not secrets a scan could find meaningfully.
    if (SECRET_FIELD.test(key) && value.length >= 12) into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, into, key);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collect(v, into, k);
  }
}

function collectBody(text: string, into: Set<string>): void {
  try {
    collect(JSON.parse(text), into);
  } catch {
    for (const [k, v] of new URLSearchParams(text)) collect(v, into, k);
  }
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const secrets = new Set<string>();
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    collectBody(body.toString("utf8"), secrets);
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) collect(auth.slice(7), secrets, "token");
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k, v]) => !DROPPED_HEADERS.has(k) && typeof v === "string"),
    ) as Record<string, string>;
    try {
      const answer = await fetch(new URL(req.url ?? "/", target), {
        method: req.method,
        headers,
        ...(body.length > 0 && req.method !== "GET" && req.method !== "HEAD" && { body }),
        redirect: "manual",
      });
      const text = Buffer.from(await answer.arrayBuffer());
      collectBody(text.toString("utf8"), secrets);
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (!DROPPED_HEADERS.has(k)) out[k] = v;
      });
      res.writeHead(answer.status, out).end(text);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secrets,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
