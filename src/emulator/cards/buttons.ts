/** A button that produces a callback when clicked. */
export interface CallbackButton {
  value: unknown;
  tag: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The callback value of one component: 2.0 `behaviors[{type:"callback"}]` (`{}` when it names no value)
 * or the 1.0 `value` property. The chat page renders buttons with it too, so a click always matches.
 */
export function callbackValue(node: Record<string, unknown>): { value: unknown } | undefined {
  if (Array.isArray(node.behaviors)) {
    const behaviour = node.behaviors.find((b) => isObject(b) && b.type === "callback");
    return isObject(behaviour) ? { value: behaviour.value ?? {} } : undefined;
  }
  return "value" in node ? { value: node.value } : undefined;
}

/**
 * Every callback button of a card in document order (open-URL buttons produce no callback on Lark, so
 * they are not listed). Works for JSON 2.0 (`body.elements`) and 1.0 (`elements`, `actions`) cards.
 */
export function callbackButtons(card: unknown): CallbackButton[] {
  const found: CallbackButton[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) walk(child);
      return;
    }
    if (!isObject(node)) return;
    if (node.tag === "button") {
      const callback = callbackValue(node);
      if (callback) found.push({ value: callback.value, tag: "button" });
      return;
    }
    for (const child of Object.values(node)) walk(child);
  };
  walk(card);
  return found;
}

/** Structural equality for JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return a === b;
}
