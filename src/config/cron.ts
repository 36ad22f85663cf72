/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC: enough
 * for the schedules in the config file without a dependency. Each field takes `*`, numbers, ranges
 * `a-b`, steps `*\/n` and `a-b/n`, and comma lists; months and weekdays also take three-letter names;
 * weekday 0 and 7 are both Sunday. As in Vixie cron, when both day fields are restricted a day
 * matching either one matches. `@hourly`, `@daily`, `@weekly`, `@monthly` and `@yearly` are accepted.
 */
export interface CronSchedule {
  readonly expression: string;
  /** The first matching minute strictly after `after`; undefined if none within the search horizon. */
  next(after: Date): Date | undefined;
  /** The last matching minute at or before `at`; undefined if none within the search horizon. */
  previous(at: Date): Date | undefined;
}

const MACROS: Readonly<Record<string, string>> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, ... */
  readonly names?: readonly string[];
}
const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 7, names: DAYS },
];

/** Matching steps tried before giving up (an expression like "0 0 31 2 *" never matches). */
const MAX_STEPS = 100_000;
const MINUTE = 60_000;

class CronSyntaxError extends Error {}

function value(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const n = named >= 0 ? spec.min + named : /^\d{1,2}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= spec.min && n <= spec.max))
    throw new CronSyntaxError(`${spec.name}: "${text}" is not in ${spec.min}-${spec.max}`);
  return n;
}

function parseField(text: string, spec: FieldSpec): { values: Set<number>; any: boolean } {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText, extra] = part.split("/");
    if (extra !== undefined) throw new CronSyntaxError(`${spec.name}: "${part}" has two steps`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? "1"))
      throw new CronSyntaxError(`${spec.name}: step "${stepText}" must be a positive integer`);
    let [from, to] = [spec.min, spec.max];
    if (range !== "*") {
      const [a = "", b, extraEnd] = range.split("-");
      if (extraEnd !== undefined) throw new CronSyntaxError(`${spec.name}: range "${range}" has two ends`);
      from = value(a, spec);
      to = b === undefined ? (stepText === undefined ? from : spec.max) : value(b, spec);
      if (to < from) throw new CronSyntaxError(`${spec.name}: range "${range}" runs backwards`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  // Sunday is 0 and 7.
  if (spec.name === "day of week" && values.has(7)) values.add(0);
  return { values, any: text === "*" };
}

/** Parses `expression`; throws an Error naming the field at fault. */
export function parseCron(expression: string): CronSchedule {
  const text = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new CronSyntaxError(`expected five fields (minute hour day month weekday), got ${parts.length}`);
  const [minute, hour, dom, month, dow] = FIELDS.map((spec, i) => parseField(parts[i] ?? "", spec)) as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  const dayMatches = (t: Date) => {
    const byDom = dom.values.has(t.getUTCDate());
    const byDow = dow.values.has(t.getUTCDay());
    if (dom.any || dow.any) return (dom.any || byDom) && (dow.any || byDow);
    return byDom || byDow;
  };
  // Each step moves to the nearest boundary where the first failing field could start to match.
  const search = (start: number, forward: boolean): Date | undefined => {
    let t = start;
    for (let i = 0; i < MAX_STEPS; i++) {
      const d = new Date(t);
      const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
      if (!month.values.has(mo + 1)) t = forward ? Date.UTC(y, mo + 1, 1) : Date.UTC(y, mo, 1) - MINUTE;
      else if (!dayMatches(d)) t = forward ? Date.UTC(y, mo, day + 1) : Date.UTC(y, mo, day) - MINUTE;
      else if (!hour.values.has(h))
        t = forward ? Date.UTC(y, mo, day, h + 1) : Date.UTC(y, mo, day, h) - MINUTE;
      else if (!minute.values.has(d.getUTCMinutes())) t += forward ? MINUTE : -MINUTE;
      else return d;
    }
    return undefined;
  };
  const floorMinute = (d: Date) => Math.floor(d.getTime() / MINUTE) * MINUTE;
  return {
    expression,
    next: (after) => search(floorMinute(after) + MINUTE, true),
    previous: (at) => search(floorMinute(at), false),
  };
}

/** Why `expression` is not a usable schedule, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  try {
    const schedule = parseCron(expression);
    if (!schedule.next(new Date())) return `"${expression}" never matches`;
    return undefined;
  } catch (err) {
    if (err instanceof CronSyntaxError) return `not a cron expression: ${err.message}`;
    throw err;
  }
}
