import { newUserCode, randomHex, randomUrlSafe } from "../ids.js";

/** A pending RFC 8628 device authorization. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  flowId: string;
  appId: string;
  scopes: string[];
  expiresAt: number;
  /** Current minimum poll interval; grows by 5 s on every `slow_down`. */
  intervalMs: number;
  lastPollAt?: number;
  /** `epoch`: the grant's epoch the approval created; a later revocation makes it worthless. */
  decision?: { userKey: string; approved: boolean; epoch?: number };
  consumed: boolean;
}

/** Device codes by device code and by user code. */
export class DeviceStore {
  readonly #byDeviceCode = new Map<string, DeviceAuthorization>();
  readonly #byUserCode = new Map<string, DeviceAuthorization>();

  create(
    appId: string,
    scopes: string[],
    now: number,
    ttlMs: number,
    intervalMs: number,
  ): DeviceAuthorization {
    const auth: DeviceAuthorization = {
      deviceCode: randomUrlSafe(64),
      userCode: newUserCode(),
      flowId: randomHex(32),
      appId,
      scopes,
      expiresAt: now + ttlMs,
      intervalMs,
      consumed: false,
    };
    this.#byDeviceCode.set(auth.deviceCode, auth);
    this.#byUserCode.set(auth.userCode, auth);
    return auth;
  }

  byDeviceCode(code: string): DeviceAuthorization | undefined {
    return this.#byDeviceCode.get(code);
  }

  /** User codes are matched case-insensitively and with or without the dash, as people type them. */
  byUserCode(code: string): DeviceAuthorization | undefined {
    const clean = code.toUpperCase().replace(/[^A-Z]/g, "");
    const normalised = `${clean.slice(0, 4)}-${clean.slice(4)}`;
    return this.#byUserCode.get(normalised);
  }
}
