/** `1 epoch`, `3 epochs`, `1,000 rows`: a count with its noun, plural unless the count is 1. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : pluralForm}`;
}
