/** Lark's named colours (font colours, header templates, tags) mapped to CSS values. */
const COLOURS: Record<string, string> = {
  blue: "#245bdb",
  wathet: "#1f8fc4",
  turquoise: "#0a8b80",
  green: "#2ea121",
  lime: "#7ba300",
  yellow: "#b58500",
  orange: "#de7802",
  red: "#d83931",
  carmine: "#c71e67",
  violet: "#b626bd",
  purple: "#7f3bf5",
  indigo: "#4954e6",
  grey: "#646a73",
  gray: "#646a73",
  neutral: "#646a73",
  default: "#1f2329",
};

/** A CSS colour for a Lark colour name or a hex literal; undefined when not recognised. */
export function cssColour(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  const key = name.trim().toLowerCase();
  if (/^#[0-9a-f]{3,8}$/.test(key)) return key;
  const base = key.replace(/-(\d+|light|lighter|dark)$/, "");
  // Own keys only: "constructor" or "__proto__" must not resolve to Object.prototype members.
  return Object.hasOwn(COLOURS, base) ? COLOURS[base] : undefined;
}

/** The header template's name restricted to known themes (used as a CSS class suffix). */
export function headerTheme(template: unknown): string {
  if (typeof template !== "string") return "default";
  const key = template.trim().toLowerCase();
  return Object.hasOwn(COLOURS, key) ? key : "default";
}

/** CSS rules for `.card-header.theme-<name>`: a light tint with a coloured title, like Lark's. */
export function headerThemeCss(): string {
  return Object.entries(COLOURS)
    .map(([name, colour]) => `.theme-${name}{background:${colour}1a;border-bottom-color:${colour}55}`)
    .concat(`.theme-default{background:#f5f6f7}`)
    .join("\n");
}
