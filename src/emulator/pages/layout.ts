/** The HTML document around every page: one inline stylesheet, an optional inline script, no assets. */
import { attrs, html, type SafeHtml, trusted } from "./html.js";
import { STYLES } from "./styles.js";

export interface DocumentParts {
  title: string;
  body: SafeHtml;
  /** A script written in this module tree (never built from input). */
  script?: string;
  bodyAttrs?: Record<string, string>;
}

export function renderDocument(parts: DocumentParts): string {
  const script = parts.script ? trusted(`<script>${parts.script}</script>`) : "";
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${parts.title} · Lark emulator</title>
<style>${trusted(STYLES)}</style>
</head>
<body${attrs(parts.bodyAttrs ?? {})}>
<div class="topbar"><span class="brand">Lark emulator</span><span class="spacer"></span>
<nav><a href="/_emulator/ui">Users</a></nav></div>
${parts.body}
${script}
</body>
</html>
`.value;
}
