/**
 * Evaluation keys are registered with the service once per key pair and plan, when a person
 * asks for a prediction (never while browsing models: they are megabytes), and remembered here
 * (public facts only: key id, plan, expiry). A registration the service has forgotten
 * (expired, or a new server) is made again on demand.
 */
import { clear, del, get, set } from 'idb-keyval';
import type { HePlan } from '../../core/he/plan.ts';
import { registerKeys } from './api.ts';
import type { HeBridge, KeyInfo, WireBody } from './he-bridge.ts';
import { registrationStore } from './stores.ts';

export interface Registration {
  keyId: string;
  planHash: string;
  fingerprint: string;
  registeredAt: string;
  expiresAt: string;
}

const storeKey = (key: KeyInfo, plan: HePlan) => `${key.fingerprint}:${plan.hash}`;
const inFlight = new Map<string, Promise<Registration>>();
/** Renew a little before the service's expiry. */
const MARGIN_MS = 10 * 60 * 1000;

/**
 * The registration of this key for this plan: the stored one while it is fresh, else a new one
 * (fresh evaluation keys made in the worker and sent). `renew` forces a new one.
 */
export function ensureRegistered(bridge: HeBridge, plan: HePlan, key: KeyInfo, options: { renew?: boolean; signal?: AbortSignal; onSending?: (bytes: number) => void } = {}): Promise<Registration> {
  const id = storeKey(key, plan);
  const pending = inFlight.get(id);
  if (pending && !options.renew) return pending;
  const run = (async () => {
    if (!options.renew) {
      const known = await get<Registration>(id, registrationStore);
      if (known && Date.parse(known.expiresAt) - MARGIN_MS > Date.now()) return known;
    } else {
      await del(id, registrationStore);
    }
    // Said before the keys are made: making them takes a moment too.
    options.onSending?.(plan.report?.evaluationKeyBytes ?? 0);
    const wire = await bridge.registration(plan, options.signal);
    return sendRegistration(wire, plan.hash, key.fingerprint, options.signal);
  })();
  inFlight.set(id, run);
  run.then(
    () => inFlight.delete(id),
    () => inFlight.delete(id),
  );
  return run;
}

/**
 * Sends a registration body made in the HE worker (now, or earlier and kept, as the outbox
 * does) and remembers it, so predictions made afterwards use these evaluation keys.
 */
export async function sendRegistration(wire: Pick<WireBody, 'body' | 'contentHash' | 'contentBytes'> & { keyId: string }, planHash: string, fingerprint: string, signal?: AbortSignal): Promise<Registration> {
  const receipt = await registerKeys(wire.body, { kind: 'evaluation keys', hash: wire.contentHash, bytes: wire.contentBytes, records: 0 }, signal);
  if (receipt.keyId !== wire.keyId) throw new Error('the service registered keys under another id than their hash');
  const registration: Registration = { keyId: receipt.keyId, planHash, fingerprint, registeredAt: new Date().toISOString(), expiresAt: receipt.expiresAt };
  await set(`${fingerprint}:${planHash}`, registration, registrationStore);
  return registration;
}

/** Forgets every registration (after the keys were rotated, imported or deleted). */
export async function forgetRegistrations(): Promise<void> {
  inFlight.clear();
  await clear(registrationStore);
}
