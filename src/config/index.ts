export { parseEncryptionKeys } from "./encryption-keys.js";
export { ConfigError, loadConfig, parseConfig } from "./load.js";
export { PERMISSIONS, SANDBOX_APP_ID } from "./schema.js";
export type * from "./types.js";
