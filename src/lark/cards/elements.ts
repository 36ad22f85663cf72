// Small builders for Lark card JSON 2.0 elements. Caller-supplied text (app names, purposes, messages,
// scope names) goes into `plain_text`, never into markdown, so it cannot add links or formatting.
export type CardElement = Record<string, unknown>;

export type HeaderColour = "blue" | "green" | "grey" | "red" | "orange";

export const plain = (content: string) => ({ tag: "plain_text", content });

/** A block of caller-supplied text, shown verbatim. */
export const text = (content: string, size: "normal" | "notation" = "normal"): CardElement => ({
  tag: "div",
  text: { ...plain(content), text_size: size },
});

/** Our own fixed wording, which may use markdown. */
export const markdown = (content: string): CardElement => ({ tag: "markdown", content });

export const divider = (): CardElement => ({ tag: "hr" });

/** A JSON 2.0 card; `update_multi` so later updates reach every client the card was shown on. */
export function card(title: string, subtitle: string, colour: HeaderColour, elements: CardElement[]) {
  return {
    schema: "2.0",
    config: { update_multi: true, width_mode: "default" },
    header: { title: plain(title), subtitle: plain(subtitle), template: colour },
    body: { elements },
  };
}

export function openUrlButton(label: string, url: string): CardElement {
  return {
    tag: "button",
    text: plain(label),
    type: "primary_filled",
    behaviors: [{ type: "open_url", default_url: url }],
  };
}

export function callbackButton(label: string, value: Record<string, string>): CardElement {
  return { tag: "button", text: plain(label), type: "default", behaviors: [{ type: "callback", value }] };
}

/**
 * A markdown link to an http(s) URL, or nothing: the URL comes from configuration or a caller, and
 * markdown would otherwise let `)` end the link early or a `javascript:` URL through.
 */
export function safeLink(label: string, url: string | undefined): CardElement | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return undefined;
  const href = parsed.toString().replace(/\(/g, "%28").replace(/\)/g, "%29");
  return markdown(`[${label}](${href})`);
}
