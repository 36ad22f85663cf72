import { Migration } from "@mikro-orm/migrations";

/**
 * The device flow's user code beside the session, so whichever replica (re)builds the card can show it
 * (a card resent after a failed send, or built after a restart, must still say which code to enter).
 */
export class Migration20261202090000_device_user_code extends Migration {
  override name = "Migration20261202090000_device_user_code";

  override up(): void | Promise<void> {
    this.addSql(`alter table "auth_session" add "device_user_code" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "auth_session" drop column "device_user_code";`);
  }
}
