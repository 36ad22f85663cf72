import type { EmulatorCore } from "../core.js";
import { parseBearer } from "../http/body.js";
import { larkError } from "../http/reply.js";
import type { EmuRequest, Reply } from "../http/types.js";
import type { AppRecord, UserRecord } from "../store/directory.js";
import type { AccessTokenRecord } from "../store/grants.js";

/** Who is calling, as the gateway establishes it from the `Authorization` header. */
export type Caller =
  | { kind: "tenant"; app: AppRecord }
  | { kind: "user"; app: AppRecord; user: UserRecord; token: AccessTokenRecord };

const INVALID = "Invalid access token for authorization. Please make a request with token attached.";

/** Which token kinds an API accepts. */
export interface Accepts {
  tenant: boolean;
  user: boolean;
}

/**
 * The gateway's token check, with the codes the real gateway uses: 99991661 missing, 99991663 bad tenant
 * token (or tenant token where only user tokens work), 99991668 bad or revoked user token (or a user token
 * where only tenant tokens work), 99991677 expired user token. All are HTTP 400.
 */
export function authenticate(core: EmulatorCore, req: EmuRequest, accepts: Accepts): Caller | Reply {
  const token = parseBearer(req.headers.authorization);
  if (!token) {
    return larkError(
      400,
      99991661,
      "Missing access token for authorization. Please make a request with token attached.",
    );
  }
  return token.startsWith("t-") ? tenantCaller(core, token, accepts) : userCaller(core, token, accepts);
}

function tenantCaller(core: EmulatorCore, token: string, accepts: Accepts): Caller | Reply {
  const appId = core.tenantTokens.appOf(token, core.now());
  const app = appId ? core.directory.app(appId) : undefined;
  if (!app) return larkError(400, 99991663, INVALID);
  if (!accepts.tenant) return larkError(400, 99991663, "tenant access token not support");
  return { kind: "tenant", app };
}

function userCaller(core: EmulatorCore, token: string, accepts: Accepts): Caller | Reply {
  const record = core.grants.accessTokens.get(token);
  if (!record || !core.grants.isCurrent(record)) return larkError(400, 99991668, INVALID);
  if (record.expiresAt <= core.now()) return larkError(400, 99991677, "token expire");
  const app = core.directory.app(record.appId);
  const user = core.directory.user(record.userKey);
  if (!app || !user) return larkError(400, 99991668, INVALID);
  if (!accepts.user) return larkError(400, 99991668, "user access token not support");
  return { kind: "user", app, user, token: record };
}

export const isReply = (value: Caller | Reply): value is Reply => "status" in value;
