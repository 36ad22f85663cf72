// What the person does in the client tests: finds the card's session through the API, opens the
// Authorize link and decides on Lark's consent page (the emulator's control API), as sandbox users do.
import { AuthSessionState } from "../../gen/lark/auth/v1/types_pb.js";
import { callback, consentUrl, waitFor } from "./auth-flow.js";
import { SANDBOX_APP_ID, type SandboxApp } from "./sandbox-app.js";

/** Waits for the user's pending session, then the user decides on it; its session id. */
export async function decidePending(sb: SandboxApp, openId: string, decision: "approve" | "deny") {
  const session = await waitFor(async () => {
    const { sessions } = await sb.auth.listAuthSessions({
      appId: SANDBOX_APP_ID,
      user: { id: { case: "openId", value: openId } },
      states: [AuthSessionState.PENDING],
    });
    return sessions[0];
  }, `a pending session of ${openId}`);
  const redirect = await sb.decide(await consentUrl(session.authorizeUrl), openId, decision);
  if (redirect) await callback(redirect);
  return session.sessionId;
}

/** How many times the emulator served `path` so far. */
export async function callsTo(sb: SandboxApp, path: string): Promise<number> {
  const res = await fetch(`${sb.emulatorUrl}/_emulator/calls?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { total: number }).total;
}

/** Adds an emulator fault (`POST /_emulator/faults`). */
export async function addFault(sb: SandboxApp, fault: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sb.emulatorUrl}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fault),
  });
  if (!res.ok) throw new Error(`fault refused: ${res.status} ${await res.text()}`);
}
