/**
 * Private training across sites: the isomorphic core (no DOM, no node:*). docs/federated.md
 * states the threat model, the proofs relied on and the accountant's bounds.
 */
export * from './manifest.ts';
export * from './agreement.ts';
export * from './prng.ts';
export * from './shamir.ts';
export * from './masking.ts';
export * from './quantize.ts';
export * from './noise.ts';
export * from './accountant.ts';
export * from './messages.ts';
export * from './site.ts';
export * from './coordinator.ts';
