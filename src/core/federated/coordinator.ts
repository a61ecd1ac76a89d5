/**
 * The coordinator's pure steps of a round: check and collect what sites send, build the roster,
 * the inboxes and the unmask request, and turn t reveals into the exact sum. The server's routes,
 * deadlines and store wrap these (src/server); nothing here does I/O.
 *
 * The coordinator learns only the sum: it holds no site secret, and each honest site reveals
 * one kind of share per peer (site.ts). These checks make bad messages fail early and cleanly
 * (4xx), they are not what the privacy rests on.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import type { PinnedStudy } from './manifest.ts';
import { unmaskSum } from './masking.ts';
import { FEDERATED_VERSION, vectorFromBytes, verifyMessage, type Advertise, type Advertisement, type Inbox, type MaskedUpload, type Reveal, type Roster, type Shares, type SignedMessage, type UnmaskRequest } from './messages.ts';
import { recoverSecret } from './shamir.ts';
import { verifyAdvertisement } from './site.ts';

/** A message the coordinator refuses (the route answers 4xx; the round goes on). */
export class CoordinatorRefusal extends Error {
  override name = 'CoordinatorRefusal';
}

/** Checks study, round and the sender's signature against its pinned identity. */
export async function checkSigned(study: PinnedStudy, round: number, message: SignedMessage): Promise<void> {
  if (message.study !== study.hash) throw new CoordinatorRefusal('the message is for another study');
  if (message.round !== round) throw new CoordinatorRefusal(`the message is for round ${message.round}, not ${round}`);
  const site = study.manifest.sites[message.site - 1];
  if (!site) throw new CoordinatorRefusal(`no site ${message.site} in this study`);
  if (!(await verifyMessage(message, hexToBytes(site.identityKey)))) throw new CoordinatorRefusal(`the signature of site ${message.site} does not verify`);
}

function envelope(study: PinnedStudy, round: number) {
  return { federated: FEDERATED_VERSION, study: study.hash, round } as const;
}

/** The roster (U₁) from the advertisements received, each checked. */
export async function makeRoster(study: PinnedStudy, round: number, adverts: readonly Advertise[]): Promise<Roster> {
  await Promise.all(adverts.map((a) => checkAdvertisement(study, round, a)));
  return assembleRoster(study, round, adverts);
}

/** Checks one advertisement: its message signature and its key signature. */
export async function checkAdvertisement(study: PinnedStudy, round: number, a: Advertise): Promise<void> {
  await checkSigned(study, round, a);
  if (!(await verifyAdvertisement(study, round, a))) throw new CoordinatorRefusal(`the key signature of site ${a.site} does not verify`);
}

/** The roster of advertisements already checked one by one (checkAdvertisement) as they came. */
export function assembleRoster(study: PinnedStudy, round: number, adverts: readonly Advertise[]): Roster {
  const seen = new Set<number>();
  const advertisements: Advertisement[] = [];
  for (const a of adverts) {
    if (seen.has(a.site)) throw new CoordinatorRefusal(`site ${a.site} advertised twice`);
    seen.add(a.site);
    advertisements.push({ site: a.site, encryptionKey: a.encryptionKey, maskKey: a.maskKey, keySignature: a.keySignature });
  }
  advertisements.sort((a, b) => a.site - b.site);
  return { type: 'roster', ...envelope(study, round), advertisements };
}

/** One inbox per site of U₂ (the senders of `shares`), with the ciphertexts addressed to it. */
export async function makeInboxes(study: PinnedStudy, round: number, roster: Roster, shares: readonly Shares[]): Promise<Map<number, Inbox>> {
  const members = new Set(roster.advertisements.map((a) => a.site));
  const participants = [...new Set(shares.map((s) => s.site))].sort((a, b) => a - b);
  for (const s of shares) {
    await checkSigned(study, round, s);
    if (!members.has(s.site)) throw new CoordinatorRefusal(`site ${s.site} sent shares but was not in the roster`);
  }
  const inboxes = new Map<number, Inbox>(participants.map((p) => [p, { type: 'inbox', ...envelope(study, round), site: p, participants, shares: [] }]));
  for (const s of shares) {
    for (const { to, ciphertext } of s.shares) inboxes.get(to)?.shares.push({ from: s.site, ciphertext });
  }
  return inboxes;
}

/** The unmask request naming U₃, the sites whose masked uploads arrived. */
export function makeUnmaskRequest(study: PinnedStudy, round: number, uploads: readonly MaskedUpload[]): UnmaskRequest {
  return { type: 'unmask', ...envelope(study, round), survivors: [...new Set(uploads.map((u) => u.site))].sort((a, b) => a - b) };
}

export interface UnmaskRoundInput {
  study: PinnedStudy;
  round: number;
  roster: Roster;
  /** U₂ as sent in the inboxes. */
  participants: readonly number[];
  uploads: readonly MaskedUpload[];
  reveals: readonly Reveal[];
}

/**
 * The exact sum of the survivors' inputs in Z_{2^32}. Needs at least t reveals, t shares of
 * each survivor's seed and t shares of each dropped participant's mask key; throws otherwise
 * (the round fails and is retried with fresh keys).
 */
export async function unmaskRound(input: UnmaskRoundInput): Promise<Uint32Array> {
  const { study, round, roster, participants, uploads, reveals } = input;
  const t = study.manifest.threshold;
  const survivors = new Map<number, Uint32Array>();
  let length = -1;
  for (const u of uploads) {
    await checkSigned(study, round, u);
    if (!participants.includes(u.site)) throw new CoordinatorRefusal(`site ${u.site} uploaded but is not a participant`);
    if (length === -1) length = u.length;
    if (u.length !== length) throw new CoordinatorRefusal(`site ${u.site} uploaded ${u.length} values, others ${length}`);
    survivors.set(u.site, vectorFromBytes(u.vector));
  }
  if (survivors.size < t) throw new CoordinatorRefusal(`${survivors.size} uploads, fewer than the threshold ${t}`);
  const selfShares = new Map<number, Uint8Array[]>();
  const keyShares = new Map<number, Uint8Array[]>();
  const revealers = new Set<number>();
  for (const r of reveals) {
    await checkSigned(study, round, r);
    if (!survivors.has(r.site) || revealers.has(r.site)) continue;
    revealers.add(r.site);
    for (const { of, share } of r.selfMask) if (survivors.has(of)) push(selfShares, of, share);
    for (const { of, share } of r.maskKey) if (!survivors.has(of) && participants.includes(of)) push(keyShares, of, share);
  }
  if (revealers.size < t) throw new CoordinatorRefusal(`${revealers.size} reveals, fewer than the threshold ${t}`);
  const selfSeeds = new Map<number, Uint8Array>();
  for (const v of survivors.keys()) selfSeeds.set(v, await recoverSecret(selfShares.get(v) ?? [], t));
  const droppedMaskKeys = new Map<number, Uint8Array>();
  for (const u of participants) if (!survivors.has(u)) droppedMaskKeys.set(u, await recoverSecret(keyShares.get(u) ?? [], t));
  const maskKeys = new Map(roster.advertisements.filter((a) => participants.includes(a.site)).map((a) => [a.site, a.maskKey]));
  return unmaskSum({ studyHash: study.hash, round, length, masked: survivors, maskKeys, selfSeeds, droppedMaskKeys });
}

function push(map: Map<number, Uint8Array[]>, key: number, value: Uint8Array): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
