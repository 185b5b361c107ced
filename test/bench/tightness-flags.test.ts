import { describe, expect, it } from 'vitest';
import { program } from '../../bench/tightness.js';

/** Parses a tightness command line; returns the options, or the error message commander gives. */
function parse(argv: string[]): { opts?: Record<string, unknown>; error?: string } {
  let error = '';
  const p = program()
    .exitOverride()
    .configureOutput({ writeErr: (t) => void (error += t), writeOut: () => undefined });
  try {
    p.parse(argv, { from: 'user' });
    return { opts: p.opts() };
  } catch {
    return { error };
  }
}

describe('tightness bench flags: one name per sample count', () => {
  it('takes --samples (K of log p̂(x)) and --iwae-samples (K of the IWAE_K column)', () => {
    expect(parse(['--samples', '300', '--iwae-samples', '30', '--elbo-samples', '3']).opts).toMatchObject({ samples: 300, iwaeSamples: 30, elboSamples: 3 });
  });
  it('refuses the old --ll-samples and --k, naming the new flag', () => {
    expect(parse(['--ll-samples', '300']).error).toContain('--ll-samples is now --samples.');
    expect(parse(['--k', '30']).error).toContain('--k is now --iwae-samples.');
  });
});
