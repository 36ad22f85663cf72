/** Text objects shared by card elements: `plain_text` / `lark_md` with optional i18n. */
import { html, type SafeHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";

export type Rec = Record<string, unknown>;

export function isRec(value: unknown): value is Rec {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The first string among `en_us`, `zh_cn`, … of an i18n map. */
function firstI18n(value: unknown): string | undefined {
  if (!isRec(value)) return undefined;
  const preferred = value.en_us ?? value.zh_cn ?? Object.values(value)[0];
  return typeof preferred === "string" ? preferred : undefined;
}

/** The raw text of a text object (or a bare string). */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (!isRec(value)) return "";
  if (typeof value.content === "string" && value.content !== "") return value.content;
  return (
    firstI18n(value.i18n_content) ??
    firstI18n(value.i18n) ??
    (typeof value.text === "string" ? value.text : "")
  );
}

/** Renders a text object: `lark_md` / `markdown` as markdown, anything else as plain text. */
export function renderText(value: unknown): SafeHtml {
  const tag = isRec(value) ? value.tag : undefined;
  if (tag === "lark_md" || tag === "markdown") return renderMarkdown(textOf(value));
  return html`<span class="plain">${textOf(value)}</span>`;
}
