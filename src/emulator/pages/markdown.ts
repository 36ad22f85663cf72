/**
 * The subset of Lark card markdown the emulator shows: **bold**, *italic*, ~~strike~~, `code`,
 * [links](url), bare URLs, <font color>, <text_tag>, <at>, <br>, headings, lists, rules and code
 * fences. Everything else is escaped text, so untrusted content cannot inject markup.
 */
import { escapeHtml, html, SafeHtml, safeHref } from "./html.js";
import { cssColour } from "./palette.js";

const INLINE = new RegExp(
  [
    "`([^`]+)`",
    "\\[([^\\]]+)\\]\\(([^)\\s]+)\\)",
    "\\*\\*(.+?)\\*\\*",
    "~~(.+?)~~",
    "\\*([^*\\s](?:[^*]*[^*\\s])?)\\*",
    "<font\\s+color\\s*=\\s*['\"]?([#\\w-]+)['\"]?\\s*>(.*?)</font>",
    "<text_tag\\s+color\\s*=\\s*['\"]?([#\\w-]+)['\"]?\\s*>(.*?)</text_tag>",
    "<at\\s+\\w+\\s*=\\s*['\"]?([^'\"\\s>]+)['\"]?\\s*>(.*?)</at>",
    "(<br\\s*/?>)",
    "(https?://[^\\s<>\"'()\\[\\]]*[^\\s<>\"'()\\[\\].,;:!?])",
  ].join("|"),
  "gi",
);

function colourStyle(name: string | undefined): string {
  const colour = cssColour(name);
  return colour ? `color:${colour}` : "";
}

function renderToken(m: RegExpExecArray): string {
  const [, code, linkText, linkUrl, bold, strike, italic, fontColour, fontText, tagColour, tagText] = m;
  const [atId, atText, br, bareUrl] = m.slice(11);
  if (code !== undefined) return html`<code>${code}</code>`.value;
  if (linkText !== undefined) return renderLink(renderInline(linkText), linkUrl);
  if (bold !== undefined) return `<strong>${renderInline(bold)}</strong>`;
  if (strike !== undefined) return `<del>${renderInline(strike)}</del>`;
  if (italic !== undefined) return `<em>${renderInline(italic)}</em>`;
  if (fontText !== undefined)
    return html`<span style="${colourStyle(fontColour)}">${inline(fontText)}</span>`.value;
  if (tagText !== undefined)
    return html`<span class="md-tag" style="${colourStyle(tagColour)}">${tagText}</span>`.value;
  if (atId !== undefined)
    return html`<span class="md-at">@${atText || (atId === "all" ? "all" : atId)}</span>`.value;
  if (br !== undefined) return "<br>";
  return renderLink(escapeHtml(bareUrl ?? ""), bareUrl);
}

function renderLink(innerHtml: string, url: string | undefined): string {
  const href = safeHref(url);
  if (!href) return innerHtml;
  return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${innerHtml}</a>`;
}

function inline(text: string): SafeHtml {
  return new SafeHtml(renderInline(text));
}

/** Renders one line of inline markdown to HTML; text between tokens is escaped. */
export function renderInline(text: string): string {
  const re = new RegExp(INLINE.source, INLINE.flags);
  let out = "";
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out += escapeHtml(text.slice(last, m.index)) + renderToken(m);
    last = m.index + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

type Block = { kind: "p" | "ul" | "ol" | "pre"; lines: string[] } | { kind: "h" | "hr"; text: string };

function classify(line: string, open: Block | undefined): Block | "blank" | "same" {
  if (open?.kind === "pre") return line.trim().startsWith("```") ? "blank" : "same";
  if (line.trim().startsWith("```")) return { kind: "pre", lines: [] };
  if (line.trim() === "") return "blank";
  const heading = /^#{1,6}\s+(.*)$/.exec(line);
  if (heading) return { kind: "h", text: heading[1] ?? "" };
  if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return { kind: "hr", text: "" };
  const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
  if (bullet) return open?.kind === "ul" ? "same" : { kind: "ul", lines: [] };
  if (/^\s*\d+[.)]\s+/.test(line)) return open?.kind === "ol" ? "same" : { kind: "ol", lines: [] };
  return open?.kind === "p" ? "same" : { kind: "p", lines: [] };
}

function listItem(line: string): string {
  return line.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, "");
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case "h":
      return `<div class="md-h">${renderInline(block.text)}</div>`;
    case "hr":
      return "<hr>";
    case "pre":
      return html`<pre>${block.lines.join("\n")}</pre>`.value;
    case "ul":
    case "ol":
      return `<${block.kind}>${block.lines.map((l) => `<li>${renderInline(listItem(l))}</li>`).join("")}</${block.kind}>`;
    default:
      return `<p>${block.lines.map(renderInline).join("<br>")}</p>`;
  }
}

/** Splits markdown into blocks (paragraphs keep their single line breaks, as Lark shows them). */
function toBlocks(content: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  for (const line of content.replace(/\r\n?/g, "\n").split("\n")) {
    const next = classify(line, open);
    if (next === "blank") {
      open = undefined;
      continue;
    }
    if (next !== "same") {
      blocks.push(next);
      open = next.kind === "h" || next.kind === "hr" ? undefined : next;
      if (next.kind === "pre") continue;
    }
    if (open && "lines" in open) open.lines.push(line);
  }
  return blocks;
}

/** Renders Lark card markdown to safe HTML. */
export function renderMarkdown(content: unknown): SafeHtml {
  if (typeof content !== "string") return new SafeHtml("");
  return new SafeHtml(`<div class="md">${toBlocks(content).map(renderBlock).join("")}</div>`);
}
