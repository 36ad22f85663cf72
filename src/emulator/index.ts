/**
 * The Lark Open Platform emulator: the Open Platform paths the service uses, faithful at the wire level,
 * plus a `/_emulator` control API. Stands alone: it imports nothing from the rest of the service.
 */

import type { CallCount } from "./calls.js";
import type { CardActionInput } from "./cards/action.js";
import { actOnCard } from "./cards/action.js";
import type { EmulatorConfig } from "./config.js";
import { registerApp } from "./control/apps.js";
import { addFault, clearFaults } from "./control/faults.js";
import { type DecideInput, decide } from "./control/oauth.js";
import { configure, type SettingsInput } from "./control/settings.js";
import { createUser, revokeGrant } from "./control/users.js";
import type { AppView, UserView } from "./control/views.js";
import { userView } from "./control/views.js";
import type { FaultInput } from "./faults.js";
import type { ClientConfig } from "./longconn/hub.js";
import { messageView } from "./openapi/message-wire.js";
import { startServer } from "./server.js";
import type { CreateUserInput, RegisterAppInput } from "./store/directory.js";

export type {
  AppView,
  CallCount,
  CardActionInput,
  ClientConfig,
  CreateUserInput,
  DecideInput,
  EmulatorConfig,
  FaultInput,
  RegisterAppInput,
  SettingsInput,
  UserView,
};
export type MessageView = ReturnType<typeof messageView>;

export interface StartEmulatorOptions {
  /** 0 or absent: a random free port. */
  port?: number;
  host?: string;
  publicUrl?: string;
  config?: Partial<EmulatorConfig>;
  /** How long to wait for an event ACK before redelivering (Lark: 3000 ms). */
  ackTimeoutMs?: number;
  /** Long-connection timings handed to SDK clients, in seconds (e.g. `{ReconnectNonce: 1}` for tests). */
  clientConfig?: Partial<ClientConfig>;
  /** Silence (ms) after which a long connection is closed; default twice its PingInterval plus 1 s. */
  wsIdleTimeoutMs?: number;
}

/** A running emulator with typed twins of the control API for in-process callers. */
export interface RunningEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
  registerApp(input?: RegisterAppInput): AppView;
  createUser(input: CreateUserInput & { app_id?: string }): UserView;
  listUsers(appId?: string): UserView[];
  messagesOf(anyUserId: string): MessageView[];
  clickCard(messageId: string, input: CardActionInput): ReturnType<typeof actOnCard>;
  decide(input: DecideInput): ReturnType<typeof decide>;
  revokeGrant(anyUserId: string, appId?: string): string[] | undefined;
  addFault(input: FaultInput): ReturnType<typeof addFault>;
  clearFaults(): void;
  configure(input: SettingsInput): Record<string, number>;
  calls(filter?: { appId?: string; path?: string }): CallCount[];
  connectionCount(appId: string): number;
}

export async function startEmulator(opts: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const server = await startServer(opts);
  const { core } = server;
  return {
    url: server.url,
    port: server.port,
    close: server.close,
    registerApp: (input = {}) => registerApp(core, input),
    createUser: (input) => createUser(core, input),
    listUsers: (appId) => core.directory.users().map((u) => userView(core, u, appId)),
    messagesOf(anyUserId) {
      const user = core.directory.findUser(anyUserId);
      return user ? core.messages.forUser(user.key).map((m) => messageView(core, m)) : [];
    },
    clickCard: (messageId, input) => actOnCard(core, messageId, input),
    decide: (input) => decide(core, input),
    revokeGrant: (anyUserId, appId) => revokeGrant(core, anyUserId, appId),
    addFault: (input) => addFault(core, input),
    clearFaults: () => clearFaults(core),
    configure: (input) => configure(core, input),
    calls: (filter) => core.calls.list(filter),
    connectionCount: (appId) => core.hub.connectionCount(appId),
  };
}
