/**
 * Small text helpers for email: header-safe single lines and HTML escaping. Core knows nothing of
 * HTTP, so it does not borrow hono's escaper; five replacements do not justify a dependency.
 */

/**
 * C0 and C1 control characters (CR, LF and TAB included) and the Unicode line and paragraph
 * separators: anything that could end a header line or hide inside one.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Replaces every run of control characters with one space, collapses whitespace and trims. */
export function oneLine(value: string): string {
  return value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Caps a string at `max` characters (code points, so a surrogate pair is never cut in half),
 * ending a cut string with an ellipsis that counts toward the cap.
 */
export function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  return `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and for quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
