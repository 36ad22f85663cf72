/** A simple outcome page: authorization errors (e.g. 20027), "device approved", "declined". */
import { html } from "./html.js";
import { renderDocument } from "./layout.js";
import type { ResultPageInput } from "./types.js";

export function renderResultPage({ title, message, ok }: ResultPageInput): string {
  const body = html`<main><div class="panel-box" data-testid="result" data-ok="${String(ok)}">
  <div class="${ok ? "outcome ok" : "outcome bad"}" aria-hidden="true">${ok ? "✓" : "✕"}</div>
  <h1 data-testid="result-title">${title}</h1>
  <p class="plain" data-testid="result-message">${message}</p>
</div></main>`;
  return renderDocument({ title, body });
}
