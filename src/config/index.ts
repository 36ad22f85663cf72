export { ConfigError, loadConfig, parseConfig } from "./load.js";
export { PERMISSIONS } from "./schema.js";
export type * from "./types.js";
