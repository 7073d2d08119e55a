/**
 * Counts in words: "1 problem", "2 problems".
 * @module
 */

/** `count` followed by the singular or plural form of a noun. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
