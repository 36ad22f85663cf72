/**
 * A Lark App ID: `cli_` and 16 hex digits. The one definition of the shape, shared by request
 * validation and (through the domain) anything else that accepts an app id.
 */
export const APP_ID_PATTERN = /^cli_[0-9a-f]{16}$/i;

/** What a malformed app id is told, wherever it is checked. */
export const APP_ID_PROBLEM = "must look like cli_ followed by 16 hex digits";

/** True when `value` has the shape of a Lark App ID. */
export function isAppId(value: string): boolean {
  return APP_ID_PATTERN.test(value);
}
