/**
 * Renders Lark interactive cards (JSON 2.0 `body.elements` and 1.0 top-level `elements` / `action`
 * modules) to safe HTML. Card content is untrusted: every string goes through `html` or the markdown
 * renderer, URLs through `safeHref`. Unknown elements show a visible placeholder instead of vanishing.
 */
import { renderButton } from "./card-button.js";
import { asArray, isRec, type Rec, renderText, textOf } from "./card-text.js";
import { attrs, html, type SafeHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { headerTheme } from "./palette.js";

const MAX_DEPTH = 12;

type ElementRenderer = (el: Rec, depth: number) => SafeHtml;

const RENDERERS: Record<string, ElementRenderer> = {
  markdown: (el) => renderMarkdown(textOf(el)),
  lark_md: (el) => renderMarkdown(textOf(el)),
  plain_text: (el) => html`<div class="text">${renderText(el)}</div>`,
  div: renderDiv,
  hr: () => html`<hr class="card-hr">`,
  button: (el) => renderButton(el),
  action: (el, depth) => renderElements(el.actions, depth + 1),
  column_set: renderColumnSet,
  note: (el, depth) => html`<div class="note">${renderElements(el.elements, depth + 1)}</div>`,
  img: renderImage,
  image: renderImage,
  collapsible_panel: renderPanel,
  form: (el, depth) => html`<div class="form">${renderElements(el.elements, depth + 1)}</div>`,
  interactive_container: (el, depth) =>
    html`<div class="box">${renderElements(el.elements, depth + 1)}</div>`,
  person: (el) =>
    html`<span class="md-at">@${typeof el.user_id === "string" ? el.user_id : "someone"}</span>`,
};

function renderDiv(el: Rec): SafeHtml {
  const fields = asArray(el.fields).filter(isRec);
  return html`<div class="div-el">
    <div class="div-main">${el.text === undefined ? "" : renderText(el.text)}${
      fields.length > 0
        ? html`<div class="fields">${fields.map(
            (f) =>
              html`<div class="${f.is_short === true ? "field short" : "field"}">${renderText(f.text)}</div>`,
          )}</div>`
        : ""
    }</div>
    ${isRec(el.extra) ? html`<div class="div-extra">${renderElement(el.extra, 1)}</div>` : ""}
  </div>`;
}

function renderColumnSet(el: Rec, depth: number): SafeHtml {
  const columns = asArray(el.columns).filter(isRec);
  return html`<div class="columns">${columns.map((col) => {
    const weight = typeof col.weight === "number" && col.weight > 0 ? Math.min(col.weight, 10) : 1;
    const flex = col.width === "auto" ? "0 0 auto" : `${weight} 1 0`;
    return html`<div class="column" style="flex:${flex}">${renderElements(col.elements, depth + 1)}</div>`;
  })}</div>`;
}

function renderImage(el: Rec): SafeHtml {
  const alt = textOf(el.alt) || textOf(el.title) || "image";
  return html`<div class="img-placeholder" title="Images are not loaded by the emulator">🖼 ${alt}</div>`;
}

function renderPanel(el: Rec, depth: number): SafeHtml {
  const title = isRec(el.header) ? textOf(el.header.title) : "";
  return html`<details class="panel"${attrs({ open: el.expanded !== false })}>
    <summary>${title || "Details"}</summary>${renderElements(el.elements, depth + 1)}</details>`;
}

function renderElement(el: unknown, depth: number): SafeHtml {
  if (!isRec(el)) return html``;
  const tag = typeof el.tag === "string" ? el.tag : "";
  const renderer = Object.hasOwn(RENDERERS, tag) ? RENDERERS[tag] : undefined;
  if (renderer && depth <= MAX_DEPTH) return renderer(el, depth);
  return html`<div class="unsupported">[${tag || "element"} — not shown by the emulator]</div>`;
}

/** Renders a list of elements; consecutive buttons share one row. */
function renderElements(elements: unknown, depth: number): SafeHtml {
  const out: SafeHtml[] = [];
  let row: SafeHtml[] = [];
  const flush = () => {
    if (row.length > 0) out.push(html`<div class="actions">${row}</div>`);
    row = [];
  };
  for (const el of asArray(elements)) {
    const isButton = isRec(el) && el.tag === "button";
    if (!isButton) flush();
    (isButton ? row : out).push(renderElement(el, depth));
  }
  flush();
  return html`${out}`;
}

function renderHeader(header: unknown): SafeHtml {
  if (!isRec(header)) return html``;
  const subtitle = textOf(header.subtitle);
  return html`<header class="card-header theme-${headerTheme(header.template)}" data-testid="card-header">
    <div class="card-title">${textOf(header.title)}</div>
    ${subtitle ? html`<div class="card-subtitle">${subtitle}</div>` : ""}
  </header>`;
}

function bodyElements(card: Rec): unknown {
  if (isRec(card.body) && Array.isArray(card.body.elements)) return card.body.elements;
  if (Array.isArray(card.elements)) return card.elements;
  const i18n = isRec(card.i18n_elements) ? card.i18n_elements : {};
  return i18n.en_us ?? i18n.zh_cn ?? Object.values(i18n)[0];
}

function parseCard(card: unknown): unknown {
  if (typeof card !== "string") return card;
  try {
    return JSON.parse(card);
  } catch {
    return undefined;
  }
}

/** Renders a card to a `<section data-testid="card-<messageId>">`. */
export function renderCard(input: unknown, messageId: string): SafeHtml {
  const card = parseCard(input);
  const hooks = attrs({ class: "card", "data-testid": `card-${messageId}`, "data-message-id": messageId });
  if (!isRec(card))
    return html`<section${hooks}><div class="card-body unsupported">[empty card]</div></section>`;
  if (card.type === "template") {
    const id = isRec(card.data) ? textOf(card.data.template_id) : "";
    return html`<section${hooks}><div class="card-body unsupported">[template card ${id}]</div></section>`;
  }
  return html`<section${hooks}>${renderHeader(card.header)}
    <div class="card-body">${renderElements(bodyElements(card), 0)}</div></section>`;
}
