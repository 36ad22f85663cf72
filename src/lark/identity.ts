import * as lark from "@larksuiteoapi/node-sdk";
import type { UserIdentity } from "../domain/users.js";
import type { LarkApp } from "./clients.js";
import { callLark, ensureOk, larkAnswerError } from "./errors.js";

/** Lark omits a field whose scope the token lacks; so do we. */
const present = (value: string | undefined) => (value ? value : undefined);

export async function getUserInfo(app: LarkApp, accessToken: string): Promise<UserIdentity> {
  const body = await callLark("user info", () =>
    app.client.authen.v1.userInfo.get({}, lark.withUserAccessToken(accessToken)),
  );
  const data = ensureOk("user info", body).data;
  if (!data?.open_id) throw larkAnswerError("user info", { code: 0, msg: "answer without open_id" }, 200);
  return {
    openId: data.open_id,
    userId: present(data.user_id),
    unionId: present(data.union_id),
    tenantKey: present(data.tenant_key),
    name: present(data.name),
    enName: present(data.en_name),
    email: present(data.email) ?? present(data.enterprise_email),
    mobile: present(data.mobile),
    avatarUrl: present(data.avatar_url),
  };
}

/** Through the SDK's token manager, so it is the very token (and cache) every API call uses. */
export async function getTenantAccessToken(app: LarkApp): Promise<{ token: string; expireTime: Date }> {
  const token = await callLark("tenant token", () => app.client.tokenManager.getTenantAccessToken());
  if (typeof token !== "string" || token === "")
    throw larkAnswerError("tenant token", { code: 0, msg: "no tenant token" });
  const expireTime = app.cache.tenantTokenExpiry(app.config.appId) ?? new Date();
  return { token, expireTime };
}
