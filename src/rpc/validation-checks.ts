import type { DescField, Message } from "@bufbuild/protobuf";

/** One thing wrong with one field, as google.rpc.BadRequest carries it. */
export interface Violation {
  /** The proto field path, e.g. `user.open_id` or `scopes[2]`. */
  readonly field: string;
  readonly description: string;
}

/**
 * Checks a field's value, which is never empty here (emptiness is the rule's `required`);
 * `path` is the field's proto path. Descriptions never quote the value: they are echoed to the
 * caller and logged, and an unbounded value would travel with them.
 */
export type Check = (value: unknown, path: string, field: DescField) => Violation[];

/** Whether a field must be set, and what a set value must satisfy. */
export interface FieldRule {
  readonly required: boolean;
  readonly check?: Check;
}

export const required = (check?: Check): FieldRule => ({ required: true, check });
export const optional = (check?: Check): FieldRule => ({ required: false, check });

/** A string that passes `test`, else `description`. */
export const text =
  (test: (s: string) => boolean, description: string): Check =>
  (v, path) =>
    typeof v === "string" && test(v) ? [] : [{ field: path, description }];

/** An integer within [min, max]. */
export const number =
  (min: number, max: number): Check =>
  (v, path) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? []
      : [{ field: path, description: `must be between ${min} and ${max}` }];

/** At most `max` elements, each passing `each` (reported by index: `scopes[2]`). */
export const list =
  (max: number, each: Check): Check =>
  (v, path, field) => {
    const items = v as readonly unknown[];
    if (items.length > max) return [{ field: path, description: `at most ${max} entries` }];
    const out: Violation[] = [];
    for (const [i, item] of items.entries()) out.push(...each(item, `${path}[${i}]`, field));
    return out;
  };

/** A value the field's enum defines; in a list, the zero (UNSPECIFIED) value is not one. */
export const oneOfEnum: Check = (v, path, field) => {
  const e =
    field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum")
      ? field.enum
      : undefined;
  const known = e?.values.some((x) => x.number === v && (field.fieldKind !== "list" || x.number !== 0));
  return known ? [] : [{ field: path, description: `must be a ${e?.name ?? "known"} value` }];
};

const USER_IDS: Readonly<Record<string, { readonly test: RegExp; readonly description: string }>> = {
  openId: { test: /^ou_[A-Za-z0-9]{1,64}$/, description: "must be ou_ followed by 1-64 letters or digits" },
  userId: { test: /^[A-Za-z0-9_-]{1,64}$/, description: "must be 1-64 letters, digits, _ or -" },
  unionId: { test: /^on_[A-Za-z0-9]{1,64}$/, description: "must be on_ followed by 1-64 letters or digits" },
  email: {
    test: /^(?=.{3,254}$)[^\s@]+@[^\s@]+\.[^\s@]+$/,
    description: "must be an email address of at most 254 characters",
  },
};
const SNAKE: Readonly<Record<string, string>> = {
  openId: "open_id",
  userId: "user_id",
  unionId: "union_id",
  email: "email",
};

/** A lark.auth.v1.UserRef with exactly one well-formed id; email only where a card is delivered. */
export const userRef =
  (allowEmail: boolean): Check =>
  (v, path) => {
    const id = (v as Message & { id: { case?: string; value?: unknown } }).id;
    const kinds = allowEmail ? "open_id, user_id, union_id or email" : "open_id, user_id or union_id";
    if (!id.case) return [{ field: path, description: `must set one of ${kinds}` }];
    const at = `${path}.${SNAKE[id.case] ?? id.case}`;
    if (id.case === "email" && !allowEmail)
      return [{ field: at, description: "not accepted here; use open_id, user_id or union_id" }];
    const rule = USER_IDS[id.case];
    if (typeof id.value !== "string" || id.value === "")
      return [{ field: at, description: "must not be empty" }];
    return rule && !rule.test.test(id.value) ? [{ field: at, description: rule.description }] : [];
  };
