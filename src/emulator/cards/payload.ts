import type { EmulatorCore } from "../core.js";
import { newEventId } from "../ids.js";
import type { AppRecord, UserRecord } from "../store/directory.js";
import type { MessageRecord } from "../store/messages.js";

/** Microseconds since the epoch as a string, like the doc samples' `create_time`. */
const microseconds = (ms: number): string => `${ms}000`;

/**
 * A `card.action.trigger` (schema 2.0) payload as the platform sends it: verification token in the header,
 * the delayed-update `c-` token in the event. `user_id` is included only when the app may read it.
 */
export function cardActionPayload(
  core: EmulatorCore,
  app: AppRecord,
  message: MessageRecord,
  operator: UserRecord,
  action: { value: unknown; tag: string },
  updateToken: string,
): object {
  const mayReadUserId = !app.scopes || app.scopes.includes("contact:user.employee_id:readonly");
  return {
    schema: "2.0",
    header: {
      event_id: newEventId(),
      token: app.verificationToken,
      create_time: microseconds(core.now()),
      event_type: "card.action.trigger",
      tenant_key: app.tenantKey,
      app_id: app.appId,
    },
    event: {
      operator: {
        tenant_key: operator.tenantKey,
        ...(mayReadUserId ? { user_id: operator.userId } : {}),
        open_id: core.directory.openId(operator, app.appId),
        union_id: operator.unionId,
      },
      token: updateToken,
      action: { value: action.value, tag: action.tag },
      host: "im_message",
      context: { open_message_id: message.messageId, open_chat_id: message.chatId },
    },
  };
}
