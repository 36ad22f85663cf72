import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { parseConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { canBind, freePorts } from "../support/net.js";

function occupy(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

describe("a start that fails half way", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "lark-auth-start-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("releases the sandbox emulator, the embedded database and the ports it had taken", async () => {
    const [grpcPort, httpPort, emulatorPort] = (await freePorts(3)) as [number, number, number];
    const env = {
      LARK_AUTH_BIND_HOST: "127.0.0.1",
      LARK_AUTH_GRPC_PORT: String(grpcPort),
      LARK_AUTH_HTTP_PORT: String(httpPort),
      LARK_AUTH_EMULATOR_PORT: String(emulatorPort),
      LARK_AUTH_DATA_DIR: dataDir,
    };
    const logger = createLogger({ level: "silent" });
    const blocker = await occupy(httpPort);
    try {
      await expect(buildApp(parseConfig(env), { logger })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    expect(await canBind(emulatorPort)).toBe(true);
    expect(await canBind(grpcPort)).toBe(true);
    // The embedded data dir is locked to one open database: a second start proves it was released.
    const app = await buildApp(parseConfig(env), { logger });
    expect(app.grpcPort).toBe(grpcPort);
    await app.close();
  });
});
