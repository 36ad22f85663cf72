import { type EntityData, type EntityManager, type FilterQuery, LockMode } from "@mikro-orm/postgresql";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import type { CardFollowUp, CardInputs, SessionSecrets } from "../domain/ports.js";
import { type AuthSession, isSessionId } from "../domain/sessions/session.js";
import type { UserRef } from "../domain/users.js";
import { AuthSessionSchema, type IAuthSession } from "./entities/index.js";
import { openBytes, type Sealer, sealToBytes } from "./sealer.js";
import { sessionFromRow, sessionToRow } from "./session-mapper.js";
import { sessionsOfUser } from "./user-match.js";

/** AAD of a session's sealed secret: the row and the field, so a ciphertext cannot be moved. */
export function sessionAad(sessionId: string, field: "pkce_verifier" | "device_code"): string {
  return `session:${sessionId}:${field}`;
}

/**
 * Session reads and writes inside one transaction. It remembers the version of every row it read,
 * so `update` is a compare-and-set against what this transaction saw, not against a caller's copy.
 */
export class SessionTx {
  readonly #versions = new Map<string, number>();

  constructor(
    private readonly em: EntityManager,
    private readonly sealer: Sealer,
    private readonly now: () => Date,
  ) {}

  /** Locked (FOR UPDATE) rows matching `where`, newest first; each one's version is remembered. */
  async lockWhere(
    where: FilterQuery<IAuthSession>,
    limit: number,
    skipLocked = false,
  ): Promise<AuthSession[]> {
    const rows = await this.em.find(AuthSessionSchema, where, {
      orderBy: skipLocked ? { expireTime: "asc", id: "asc" } : { createTime: "desc", id: "desc" },
      limit,
      lockMode: skipLocked ? LockMode.PESSIMISTIC_PARTIAL_WRITE : LockMode.PESSIMISTIC_WRITE,
      disableIdentityMap: true,
    });
    for (const row of rows) this.#versions.set(row.id, row.version);
    return rows.map(sessionFromRow);
  }

  async lock(id: string): Promise<AuthSession | undefined> {
    if (!isSessionId(id)) return undefined;
    return (await this.lockWhere({ id }, 1))[0];
  }

  async pendingFor(appId: string, user: UserRef): Promise<AuthSession | undefined> {
    return (await this.lockWhere({ $and: [{ appId, state: "PENDING" }, sessionsOfUser(user)] }, 1))[0];
  }

  async insert(session: AuthSession, card: CardInputs, secrets: SessionSecrets): Promise<void> {
    const pkce = secrets.pkceVerifier
      ? sealToBytes(this.sealer, secrets.pkceVerifier, sessionAad(session.id, "pkce_verifier"))
      : undefined;
    const device = secrets.deviceCode
      ? sealToBytes(this.sealer, secrets.deviceCode, sessionAad(session.id, "device_code"))
      : undefined;
    await this.em.insert(AuthSessionSchema, {
      ...sessionToRow(session),
      oauthStateHash: secrets.oauthStateHash ? Buffer.from(secrets.oauthStateHash, "hex") : null,
      pkceVerifierSealed: pkce?.bytes ?? null,
      pkceVerifierKeyId: pkce?.keyId ?? null,
      deviceCodeSealed: device?.bytes ?? null,
      deviceCodeKeyId: device?.keyId ?? null,
      cardMessage: card.message ?? null,
      cardPrivacyUrl: card.privacyPolicyUrl ?? null,
      cardDescriptionStyle: card.descriptionStyle,
      // A new session has a card to send: the dispatcher picks it up from now on.
      cardNextAttemptTime: session.createTime,
    });
    this.#versions.set(session.id, 1);
  }

  async update(session: AuthSession, card?: CardFollowUp): Promise<void> {
    const version = this.#versions.get(session.id);
    if (version === undefined) throw new Error("updateSession: the session was not read in this transaction");
    const { id: _id, appId: _app, createTime: _created, ...row } = sessionToRow(session);
    const cardColumns =
      card === "schedule"
        ? { cardNextAttemptTime: this.now(), cardAttempts: 0 }
        : card === "synced"
          ? { cardSyncedState: session.state, cardNextAttemptTime: null }
          : {};
    // The mapper's insert shape is a superset of what an update accepts; the columns are the same.
    const data = { ...row, ...cardColumns, version: version + 1 } as EntityData<IAuthSession>;
    const changed = await this.em.nativeUpdate(AuthSessionSchema, { id: session.id, version }, data);
    if (changed !== 1) {
      throw new DomainError(
        DomainErrorCode.SESSION_CONFLICT,
        `auth session ${session.id} was changed by another writer; try again`,
        { metadata: { session_id: session.id } },
      );
    }
    this.#versions.set(session.id, version + 1);
  }

  /**
   * Single use: the update marks the state used only while unused, and its row lock makes a
   * concurrent consumer wait, then see it used (READ COMMITTED re-checks the where clause).
   */
  async consumeState(stateHash: string): Promise<{ session: AuthSession } | "used" | undefined> {
    if (!/^[0-9a-f]{64}$/.test(stateHash)) return undefined;
    const hash = Buffer.from(stateHash, "hex");
    const claimed = await this.em.nativeUpdate(
      AuthSessionSchema,
      { oauthStateHash: hash, oauthStateUsedTime: null },
      { oauthStateUsedTime: this.now() },
    );
    const [session] = await this.lockWhere({ oauthStateHash: hash }, 1);
    if (!session) return undefined;
    return claimed === 1 ? { session } : "used";
  }

  /** A fresh state replaces the old one and is unused; only a pending session can be armed. */
  async armState(sessionId: string, stateHash: string, pkceVerifier: string): Promise<void> {
    const pkce = sealToBytes(this.sealer, pkceVerifier, sessionAad(sessionId, "pkce_verifier"));
    await this.em.nativeUpdate(
      AuthSessionSchema,
      { id: sessionId, state: "PENDING" },
      {
        oauthStateHash: Buffer.from(stateHash, "hex"),
        oauthStateUsedTime: null,
        pkceVerifierSealed: pkce.bytes,
        pkceVerifierKeyId: pkce.keyId,
      },
    );
  }

  async releaseState(sessionId: string): Promise<void> {
    await this.em.nativeUpdate(AuthSessionSchema, { id: sessionId }, { oauthStateUsedTime: null });
  }

  async openSecrets(sessionId: string): Promise<{ pkceVerifier?: string; deviceCode?: string }> {
    if (!isSessionId(sessionId)) return {};
    const row = await this.em.findOne(
      AuthSessionSchema,
      { id: sessionId },
      { populate: ["pkceVerifierSealed", "deviceCodeSealed"], disableIdentityMap: true },
    );
    const open = (bytes: Uint8Array | null | undefined, field: "pkce_verifier" | "device_code") =>
      bytes ? openBytes(this.sealer, Buffer.from(bytes), sessionAad(sessionId, field)) : undefined;
    const pkceVerifier = open(row?.pkceVerifierSealed, "pkce_verifier");
    const deviceCode = open(row?.deviceCodeSealed, "device_code");
    return { ...(pkceVerifier && { pkceVerifier }), ...(deviceCode && { deviceCode }) };
  }
}
