// Assertions that fail with a message saying what was expected and what came.

/** A check that failed: main prints it and exits non-zero. */
export class CheckError extends Error {}

export function check(cond: unknown, message: string, got?: unknown): asserts cond {
  if (!cond) {
    throw new CheckError(got === undefined ? message : `${message}; got ${show(got)}`);
  }
}

export function equal<T>(got: T, want: T, what: string): void {
  check(got === want, `${what}: want ${show(want)}`, got);
}

/** present narrows away null and undefined, naming what was missing. */
export function present<T>(v: T | null | undefined, what: string): T {
  check(v !== null && v !== undefined, `${what} is missing`, v);
  return v;
}

// RFC 3339 as gqlgen writes Time: date, "T", time with optional fraction, Z or offset.
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** isTime checks that a Time scalar is RFC 3339 text and returns it as a Date. */
export function isTime(v: string, what: string): Date {
  check(typeof v === 'string' && rfc3339.test(v), `${what} is not an RFC 3339 time`, v);
  const d = new Date(v);
  check(!Number.isNaN(d.getTime()), `${what} does not parse as a date`, v);
  return d;
}

export function show(v: unknown): string {
  if (v instanceof Error) return v.message;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 600 ? `${s.slice(0, 600)}…` : s;
}

/** within rejects when p has not settled after ms: a step that hangs fails. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckError(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
