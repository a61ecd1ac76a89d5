/**
 * A site's side of secure aggregation as pure logic: no I/O, no clock. A transport (the CLI's
 * HTTP client, the browser lab, an in-process test) feeds it the coordinator's messages and sends
 * what it returns. One `Site` lives for the whole study and owns what must outlive a round: the
 * identity key, the reveal guard, the last round started. One `SiteRound` per round holds that
 * round's fresh secrets, and moves advertise → share → upload → reveal, refusing anything out
 * of order, addressed elsewhere, unsigned, or that would break the reveal rule.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { advertisementBytes, agree, generateAgreementKeys, identityPublicKey, openFromPeer, sealForPeer, sign, verify, type KeyPair } from './agreement.ts';
import { siteAt, siteIndexOf, type PinnedStudy } from './manifest.ts';
import { maskUpdate, RevealGuard } from './masking.ts';
import { FEDERATED_VERSION, signMessage, vectorToBytes, type Advertise, type Advertisement, type Inbox, type MaskedUpload, type Reveal, type Roster, type Shares, type UnmaskRequest } from './messages.ts';
import { ChaChaRng } from './prng.ts';
import { SHARE_BYTES, shareSecret } from './shamir.ts';

/** A site refusing a coordinator message; the round cannot go on for this site. */
export class SiteRefusal extends Error {
  override name = 'SiteRefusal';
}

export type SiteRoundState = 'advertised' | 'shared' | 'uploaded' | 'revealed' | 'failed';

export interface SiteOptions {
  study: PinnedStudy;
  /** The site's Ed25519 identity secret key; its public key must be in the manifest. */
  identitySecretKey: Uint8Array;
  /** Where round secrets come from: a seeded generator for tests, else the platform CSPRNG. */
  rng?: ChaChaRng;
}

/** Checks an advertisement's key signature against the identity pinned in the manifest. */
export function verifyAdvertisement(study: PinnedStudy, round: number, ad: Advertisement): Promise<boolean> {
  const site = study.manifest.sites[ad.site - 1];
  if (!site) return Promise.resolve(false);
  return verify(ad.keySignature, advertisementBytes(study.hash, round, ad.site, ad.encryptionKey, ad.maskKey), hexToBytes(site.identityKey));
}

export class Site {
  readonly study: PinnedStudy;
  /** This site's 1-based index in the manifest. */
  readonly index: number;
  readonly #identity: Uint8Array;
  readonly #rng: ChaChaRng;
  readonly #guard: RevealGuard;
  #lastRound = 0;

  constructor(options: SiteOptions) {
    this.study = options.study;
    this.#identity = options.identitySecretKey.slice();
    this.index = siteIndexOf(options.study.manifest, bytesToHex(identityPublicKey(this.#identity)));
    this.#rng = options.rng ?? ChaChaRng.fresh();
    this.#guard = new RevealGuard(options.study.manifest.threshold);
  }

  /**
   * Starts a round with fresh keys and seed and returns it with its signed advertisement.
   * Round numbers only go up: a round is never re-keyed, so nothing revealed in it is reused.
   */
  async startRound(round: number): Promise<{ round: SiteRound; advertise: Advertise }> {
    if (!Number.isInteger(round) || round <= this.#lastRound) throw new SiteRefusal(`round ${round} is not after round ${this.#lastRound}, the last this site started`);
    this.#lastRound = round;
    const siteRound = new SiteRound(this, round, this.#rng, this.#guard, this.#identity);
    return { round: siteRound, advertise: await siteRound.advertisement() };
  }

  /** Signs a message with the identity key. */
  sign<M extends Advertise | Shares | MaskedUpload | Reveal>(message: M): Promise<M> {
    return signMessage(message, this.#identity);
  }
}

interface ReceivedShares {
  selfMask: Uint8Array;
  maskKey: Uint8Array;
}

export class SiteRound {
  readonly #site: Site;
  readonly round: number;
  readonly #guard: RevealGuard;
  readonly #identity: Uint8Array;
  readonly #encryption: KeyPair;
  readonly #mask: KeyPair;
  readonly #seed: Uint8Array;
  #state: SiteRoundState = 'advertised';
  /** U₁ as verified: site → advertisement. */
  #roster = new Map<number, Advertisement>();
  /** U₂ as the coordinator named it. */
  #participants: number[] = [];
  /** Shares held for each site of U₂ (including this site's own). */
  #held = new Map<number, ReceivedShares>();
  /** X25519 agreements of encryption keys with each roster member, for sealing and opening. */
  #shared = new Map<number, Uint8Array>();

  constructor(site: Site, round: number, rng: ChaChaRng, guard: RevealGuard, identity: Uint8Array) {
    this.#site = site;
    this.round = round;
    this.#guard = guard;
    this.#identity = identity;
    this.#encryption = generateAgreementKeys(rng);
    this.#mask = generateAgreementKeys(rng);
    this.#seed = rng.bytes(32);
  }

  get state(): SiteRoundState {
    return this.#state;
  }

  #envelope() {
    return { federated: FEDERATED_VERSION, study: this.#site.study.hash, round: this.round } as const;
  }

  #expect(state: SiteRoundState, step: string): void {
    if (this.#state !== state) throw new SiteRefusal(`round ${this.round}: cannot ${step} in state "${this.#state}"`);
  }

  #check(message: { study: string; round: number }, what: string): void {
    if (message.study !== this.#site.study.hash) throw this.#fail(`the ${what} is for another study`);
    if (message.round !== this.round) throw this.#fail(`the ${what} is for round ${message.round}, not ${this.round}`);
  }

  #fail(reason: string): SiteRefusal {
    this.#state = 'failed';
    return new SiteRefusal(`round ${this.round}: ${reason}`);
  }

  async advertisement(): Promise<Advertise> {
    const { index, study } = this.#site;
    const keySignature = await sign(advertisementBytes(study.hash, this.round, index, this.#encryption.publicKey, this.#mask.publicKey), this.#identity);
    return this.#site.sign({ type: 'advertise', ...this.#envelope(), site: index, encryptionKey: this.#encryption.publicKey, maskKey: this.#mask.publicKey, keySignature, signature: new Uint8Array(64) });
  }

  /** Verifies the roster (U₁) and returns this site's encrypted shares for every member. */
  async share(roster: Roster): Promise<Shares> {
    this.#expect('advertised', 'share');
    this.#check(roster, 'roster');
    const { manifest } = this.#site.study;
    const members = new Map<number, Advertisement>();
    for (const ad of roster.advertisements) {
      if (members.has(ad.site)) throw this.#fail(`site ${ad.site} appears twice in the roster`);
      siteAt(manifest, ad.site);
      members.set(ad.site, ad);
    }
    // Independent signature checks, started together (native Ed25519 runs them in parallel).
    const verified = await Promise.all(roster.advertisements.map((ad) => verifyAdvertisement(this.#site.study, this.round, ad)));
    const forged = roster.advertisements.find((_, k) => !verified[k]);
    if (forged) throw this.#fail(`the keys advertised for site ${forged.site} are not signed by its identity in the manifest`);
    const own = members.get(this.#site.index);
    if (!own || !equal(own.encryptionKey, this.#encryption.publicKey) || !equal(own.maskKey, this.#mask.publicKey)) {
      throw this.#fail('the roster does not carry this site\'s own keys');
    }
    if (members.size < manifest.threshold) throw this.#fail(`${members.size} sites in the roster, fewer than the threshold ${manifest.threshold}`);
    this.#roster = members;
    const order = [...members.keys()].sort((a, b) => a - b);
    const selfMask = await shareSecret(this.#seed, order.length, manifest.threshold);
    const maskKey = await shareSecret(this.#mask.secretKey, order.length, manifest.threshold);
    const shares: Shares['shares'] = [];
    const agreed = await Promise.all(order.map((j) => (j === this.#site.index ? null : agree(this.#encryption.secretKey, members.get(j)!.encryptionKey).catch(() => undefined))));
    for (const [k, j] of order.entries()) {
      if (j === this.#site.index) {
        this.#held.set(j, { selfMask: selfMask[k]!, maskKey: maskKey[k]! });
        continue;
      }
      const plaintext = new Uint8Array(2 * SHARE_BYTES);
      plaintext.set(selfMask[k]!, 0);
      plaintext.set(maskKey[k]!, SHARE_BYTES);
      const shared = agreed[k];
      if (!shared) throw this.#fail(`site ${j} advertised a low-order encryption key`);
      this.#shared.set(j, shared);
      shares.push({ to: j, ciphertext: sealForPeer(plaintext, shared, this.#site.study.hash, this.round, this.#site.index, j) });
    }
    this.#state = 'shared';
    return this.#site.sign({ type: 'shares', ...this.#envelope(), site: this.#site.index, shares, signature: new Uint8Array(64) });
  }

  /**
   * Opens the shares addressed to this site, then masks `update` (x_i in Z_{2^32}: quantized
   * update plus noise share) with the self mask and the pairwise masks of U₂.
   */
  async upload(inbox: Inbox, update: Uint32Array): Promise<MaskedUpload> {
    this.#expect('shared', 'upload');
    this.#check(inbox, 'inbox');
    const me = this.#site.index;
    if (inbox.site !== me) throw this.#fail(`the inbox is addressed to site ${inbox.site}`);
    const participants = [...inbox.participants].sort((a, b) => a - b);
    if (!participants.includes(me)) throw this.#fail('this site is not among the participants');
    for (const j of participants) if (!this.#roster.has(j)) throw this.#fail(`participant ${j} was not in the roster`);
    if (participants.length < this.#site.study.manifest.threshold) throw this.#fail(`${participants.length} participants, fewer than the threshold`);
    const from = new Map(inbox.shares.map((s) => [s.from, s.ciphertext]));
    if (from.size !== inbox.shares.length) throw this.#fail('two ciphertexts from one site');
    for (const j of participants) {
      if (j === me) continue;
      const ciphertext = from.get(j);
      if (!ciphertext) throw this.#fail(`no shares from participant ${j}`);
      let plaintext: Uint8Array;
      try {
        plaintext = openFromPeer(ciphertext, this.#shared.get(j)!, this.#site.study.hash, this.round, j, me);
      } catch {
        throw this.#fail(`the shares from site ${j} do not open: altered, or not for this site and round`);
      }
      if (plaintext.length !== 2 * SHARE_BYTES) throw this.#fail(`the shares from site ${j} have the wrong length`);
      this.#held.set(j, { selfMask: plaintext.slice(0, SHARE_BYTES), maskKey: plaintext.slice(SHARE_BYTES) });
    }
    for (const j of from.keys()) if (!participants.includes(j)) throw this.#fail(`a ciphertext from site ${j}, which is not a participant`);
    this.#participants = participants;
    const peers = new Map(participants.filter((j) => j !== me).map((j) => [j, this.#roster.get(j)!.maskKey]));
    let masked: Uint32Array;
    try {
      masked = await maskUpdate({ studyHash: this.#site.study.hash, round: this.round, site: me, update, selfSeed: this.#seed, maskSecretKey: this.#mask.secretKey, peers });
    } catch (e) {
      throw this.#fail(`cannot mask: ${(e as Error).message}`);
    }
    this.#state = 'uploaded';
    return this.#site.sign({ type: 'masked', ...this.#envelope(), site: me, length: masked.length, vector: vectorToBytes(masked), signature: new Uint8Array(64) });
  }

  /**
   * Reveals, for each survivor, its self-mask share and, for each participant that did not
   * survive, its mask-key share — after the reveal guard admits the request. This site derives
   * the dropped set itself (U₂ \ U₃); it never takes it from the coordinator.
   */
  async reveal(request: UnmaskRequest): Promise<Reveal> {
    if (this.#state !== 'uploaded' && this.#state !== 'revealed') throw new SiteRefusal(`round ${this.round}: cannot reveal in state "${this.#state}"`);
    this.#check(request, 'unmask request');
    const me = this.#site.index;
    const survivors = [...new Set(request.survivors)].sort((a, b) => a - b);
    for (const v of survivors) if (!this.#participants.includes(v)) throw new SiteRefusal(`round ${this.round}: survivor ${v} was not a participant`);
    if (!survivors.includes(me)) throw new SiteRefusal(`round ${this.round}: this site uploaded but is not named a survivor`);
    const dropped = this.#participants.filter((j) => !survivors.includes(j));
    this.#guard.admit(this.round, survivors, dropped);
    this.#state = 'revealed';
    return this.#site.sign({
      type: 'reveal',
      ...this.#envelope(),
      site: me,
      selfMask: survivors.map((v) => ({ of: v, share: this.#held.get(v)!.selfMask })),
      maskKey: dropped.map((u) => ({ of: u, share: this.#held.get(u)!.maskKey })),
      signature: new Uint8Array(64),
    });
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}
