/**
 * Buttons: an open-URL button becomes a link (JSON 2.0 `behaviors[].open_url`, 1.0 `url` / `multi_url`);
 * a callback button (2.0 `behaviors[].callback`, 1.0 `value`) becomes a `<button data-callback>` whose
 * value the chat page's script posts to the emulator's card-action endpoint.
 */

import { callbackValue } from "../cards/buttons.js";
import { asArray, isRec, type Rec, textOf } from "./card-text.js";
import { attrs, html, type SafeHtml, safeHref } from "./html.js";

const BUTTON_TYPES = new Set([
  "default",
  "primary",
  "danger",
  "text",
  "laser",
  "primary_filled",
  "danger_filled",
]);
const APPLINK_HOSTS = new Set(["applink.feishu.cn", "applink.larksuite.com"]);

/** An AppLink "open web URL" wrapper opens its `url` parameter; the emulator opens that directly. */
function unwrapAppLink(url: string): string {
  try {
    const parsed = new URL(url);
    const target = parsed.searchParams.get("url");
    return APPLINK_HOSTS.has(parsed.hostname) && target ? target : url;
  } catch {
    return url;
  }
}

/** The URL a desktop client would open: `pc_url`, else `default_url` / `url`. */
function pickUrl(spec: Rec): string | undefined {
  const candidates = [spec.pc_url, spec.default_url, spec.url];
  const url = candidates.find(
    (c): c is string => typeof c === "string" && c !== "" && !c.startsWith("lark://"),
  );
  return url === undefined ? undefined : unwrapAppLink(url);
}

export function openUrlOf(button: Rec): string | undefined {
  const behavior = asArray(button.behaviors).find((b) => isRec(b) && b.type === "open_url");
  if (isRec(behavior)) return pickUrl(behavior);
  if (isRec(button.multi_url)) return pickUrl(button.multi_url);
  return typeof button.url === "string" ? pickUrl({ url: button.url }) : undefined;
}

function buttonClass(button: Rec): string {
  const type = typeof button.type === "string" && BUTTON_TYPES.has(button.type) ? button.type : "default";
  return `btn btn-${type}${button.width === "fill" ? " btn-fill" : ""}`;
}

export function renderButton(button: Rec): SafeHtml {
  const label = textOf(button.text) || "Button";
  const url = openUrlOf(button);
  const href = url === undefined ? undefined : safeHref(url);
  const callback = callbackValue(button);
  const common = {
    class: buttonClass(button),
    "data-testid": "button",
    "data-callback": callback !== undefined,
    "data-value": callback ? JSON.stringify(callback.value ?? null) : undefined,
  };
  if (href && button.disabled !== true) {
    const link = { ...common, "data-kind": "open_url", href, target: "_blank", rel: "noopener" };
    return html`<a${attrs(link)}>${label}</a>`;
  }
  return html`<button${attrs({
    ...common,
    type: "button",
    "data-kind": callback ? "callback" : "inert",
    title: url !== undefined && !href ? "This link cannot be opened in the emulator" : undefined,
    disabled: button.disabled === true,
  })}>${label}</button>`;
}
