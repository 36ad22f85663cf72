import { Migration } from "@mikro-orm/migrations";

/**
 * Bookkeeping of two background jobs on the grant row: the last re-authorization nudge (at most one a
 * day per user, across replicas) and the last scheduled user-info sync claim.
 */
export class Migration20261203090000_grant_nudge_sync extends Migration {
  override name = "Migration20261203090000_grant_nudge_sync";

  override up(): void | Promise<void> {
    this.addSql(
      `alter table "user_grant" add "reauth_nudge_time" timestamptz null, add "identity_sync_time" timestamptz null;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(
      `alter table "user_grant" drop column "reauth_nudge_time", drop column "identity_sync_time";`,
    );
  }
}
