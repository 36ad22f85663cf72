import { fileURLToPath } from "node:url";
import { Migrator } from "@mikro-orm/migrations";
import { defineConfig, type Options } from "@mikro-orm/postgresql";
import { ENTITIES } from "./entities/index.js";

/** The repository's `migrations/` folder, resolved from this file so the working directory never matters. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Settings the service, the migrate CLI and the migration generator share. */
export interface OrmSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly logger?: (msg: string) => void;
  /** A Unix socket directory to connect through instead of the URL's host (the embedded database). */
  readonly socketDir?: string;
  /** Receives the driver's `pg` pool once created (a forced close needs its clients). */
  readonly onPool?: (pool: unknown) => void;
}

/**
 * The one MikroORM configuration: explicit entity list, the PostgreSQL driver, migrations from
 * `migrations/`. There is no snapshot file: `migration:create` diffs the entities against a
 * scratch database migrated to the latest version, so the migrations are the only source of truth.
 */
export function ormOptions(settings: OrmSettings): Options {
  return defineConfig({
    clientUrl: settings.url,
    // MikroORM reads host and port from the URL itself and would drop `?host=`.
    ...(settings.socketDir === undefined ? {} : { host: settings.socketDir }),
    driverOptions: { onPoolCreated: (pool: unknown) => settings.onPool?.(pool) },
    entities: ENTITIES,
    extensions: [Migrator],
    pool: { min: 0, max: settings.poolSize },
    // Never the global EntityManager: every unit of work forks (database.ts `em()`).
    allowGlobalContext: false,
    logger: settings.logger ?? (() => {}),
    migrations: {
      path: MIGRATIONS_DIR,
      glob: "Migration*.{js,ts}",
      tableName: "mikro_orm_migrations",
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      snapshotOnMigrate: false,
      silent: settings.logger === undefined,
      emit: "ts",
    },
  });
}
