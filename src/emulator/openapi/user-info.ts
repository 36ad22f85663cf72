import type { EmulatorCore } from "../core.js";
import { json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import type { UserRecord } from "../store/directory.js";
import { authenticate, isReply } from "./gateway.js";

const avatar = (user: UserRecord, size: string) =>
  `https://s1-imfile.feishucdn.com/static-resource/v1/emulator-${user.userId}~?image_size=${size}&cut_type=&quality=&format=png`;

/** The user_info `data`; fields behind a scope the token lacks are omitted, as on Lark. */
export function userInfoData(core: EmulatorCore, user: UserRecord, appId: string, scopes: string[]) {
  const has = (scope: string) => scopes.includes(scope);
  return {
    name: user.name,
    en_name: user.enName,
    avatar_url: avatar(user, "noop"),
    avatar_thumb: avatar(user, "72x72"),
    avatar_middle: avatar(user, "240x240"),
    avatar_big: avatar(user, "640x640"),
    open_id: core.directory.openId(user, appId),
    union_id: user.unionId,
    ...(has("contact:user.email:readonly") ? { email: user.email } : {}),
    ...(has("contact:user.employee_id:readonly") ? { user_id: user.userId } : {}),
    ...(has("contact:user.phone:readonly") && user.mobile ? { mobile: user.mobile } : {}),
    ...(user.employeeNo ? { employee_no: user.employeeNo } : {}),
    tenant_key: user.tenantKey,
  };
}

export function userInfoRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "GET",
      pattern: "/open-apis/authen/v1/user_info",
      openPlatform: true,
      handler(req) {
        const caller = authenticate(core, req, { tenant: false, user: true });
        if (isReply(caller)) return caller;
        if (caller.kind !== "user")
          return json(400, { code: 99991663, msg: "tenant access token not support" });
        const data = userInfoData(core, caller.user, caller.app.appId, caller.token.scopes);
        return json(200, { code: 0, msg: "success", data });
      },
    },
  ];
}
