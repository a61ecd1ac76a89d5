import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateAgreementKeys } from './agreement.ts';
import { CoordinatorRefusal, makeInboxes, makeRoster, makeUnmaskRequest, unmaskRound } from './coordinator.ts';
import { exampleStudy, type ExampleStudy } from './fixtures.ts';
import { addInto, RevealRefused } from './masking.ts';
import { decodeFederated, encodeFederated, vectorToBytes, type FederatedMessage, type FederatedMessageType, type MaskedUpload } from './messages.ts';
import { noiseShare, noiseShareLambda } from './noise.ts';
import { deriveRng } from './prng.ts';
import { accumulate, poissonSample, quantizeRecord, toZ32 } from './quantize.ts';
import { Site, SiteRefusal, type SiteRound } from './site.ts';

/** Every message crosses the wire: encoded, bounds-checked, decoded, validated. */
function wire<T extends FederatedMessageType>(message: FederatedMessage & { type: T }): FederatedMessage & { type: T } {
  return decodeFederated(encodeFederated(message), message.type) as FederatedMessage & { type: T };
}

const LENGTH = 17;

/** x_i: the site's quantized per-record gradients (fake data) plus its noise share, in Z_2^32. */
function siteInput(study: ExampleStudy, site: number, round: number, seed: number): Uint32Array {
  const rng = deriveRng(new Uint8Array(32).fill(seed), `input/${site}/${round}`);
  const sum = new Float64Array(LENGTH);
  for (const _ of poissonSample(200, study.manifest.schedule.samplingRate, rng)) {
    const gradient = Array.from({ length: LENGTH }, () => rng.float() * 2 - 1);
    accumulate(sum, quantizeRecord(gradient, study.manifest.update, rng));
  }
  const noise = noiseShare(LENGTH, noiseShareLambda(study.manifest), rng);
  for (let k = 0; k < LENGTH; k++) sum[k]! += noise[k]!;
  return toZ32(sum);
}

function makeSites(study: ExampleStudy, seed = 1): Site[] {
  return study.identities.map((id, k) => new Site({ study, identitySecretKey: id.secretKey, rng: deriveRng(new Uint8Array(32).fill(seed), `site-${k + 1}`) }));
}

/** Which step a site stops answering at (undefined: it completes the round). */
type Drop = 'advertise' | 'share' | 'upload' | 'reveal' | undefined;

interface RoundResult {
  sum?: Uint32Array;
  expected: Uint32Array;
  uploads: MaskedUpload[];
  failedAt?: string;
}

/** One round with the coordinator's pure steps and N in-memory sites. */
async function runRound(study: ExampleStudy, sites: Site[], round: number, drops: Drop[] = [], seed = 1): Promise<RoundResult> {
  const t = study.manifest.threshold;
  const alive = (k: number, step: Exclude<Drop, undefined>) => {
    const order = ['advertise', 'share', 'upload', 'reveal'];
    const d = drops[k];
    return d === undefined || order.indexOf(d) > order.indexOf(step);
  };
  const rounds = new Map<number, SiteRound>();
  const adverts = [];
  for (const [k, s] of sites.entries()) {
    if (!alive(k, 'advertise')) continue;
    const { round: r, advertise } = await s.startRound(round);
    rounds.set(s.index, r);
    adverts.push(wire(advertise));
  }
  const expected = new Uint32Array(LENGTH);
  if (adverts.length < t) return { expected, uploads: [], failedAt: 'advertise' };
  const roster = wire(await makeRoster(study, round, adverts));
  const shares = [];
  for (const [index, r] of rounds) if (alive(index - 1, 'share')) shares.push(wire(await r.share(roster)));
  if (shares.length < t) return { expected, uploads: [], failedAt: 'share' };
  const inboxes = await makeInboxes(study, round, roster, shares);
  const uploads: MaskedUpload[] = [];
  for (const [index, inbox] of inboxes) {
    if (!alive(index - 1, 'upload')) continue;
    const x = siteInput(study, index, round, seed);
    addInto(expected, x);
    uploads.push(wire(await rounds.get(index)!.upload(wire(inbox), x)));
  }
  if (uploads.length < t) return { expected, uploads, failedAt: 'upload' };
  const request = wire(makeUnmaskRequest(study, round, uploads));
  const reveals = [];
  for (const u of uploads.filter((u) => alive(u.site - 1, 'reveal'))) reveals.push(wire(await rounds.get(u.site)!.reveal(request)));
  if (reveals.length < t) return { expected, uploads, failedAt: 'reveal' };
  const sum = await unmaskRound({ study, round, roster, participants: inboxes.values().next().value!.participants, uploads, reveals });
  return { sum, expected, uploads };
}

describe('a round of secure aggregation, simulated in memory', () => {
  const study = exampleStudy(); // N = 5, t = 3

  it('without dropouts the coordinator gets exactly the sum of the inputs (quantized updates plus noise)', async () => {
    const result = await runRound(study, makeSites(study), 1);
    expect(result.failedAt).toBeUndefined();
    expect([...result.sum!]).toEqual([...result.expected]);
  });

  it('dropouts at any step, up to N − t sites, still give the exact sum of the survivors; fewer than t fail cleanly', async () => {
    const drop = fc.constantFrom<Drop>(undefined, undefined, 'advertise', 'share', 'upload', 'reveal');
    await fc.assert(
      fc.asyncProperty(fc.array(drop, { minLength: 5, maxLength: 5 }), fc.integer({ min: 1, max: 50 }), async (drops, seed) => {
        const result = await runRound(study, makeSites(study, seed), 1, drops, seed);
        const count = (stopped: Drop[]) => drops.filter((d) => !stopped.includes(d)).length;
        // Sites present at each step: advertised, shared, uploaded, revealed.
        const present = [count(['advertise']), count(['advertise', 'share']), count(['advertise', 'share', 'upload']), count(['advertise', 'share', 'upload', 'reveal'])];
        expect(result.failedAt !== undefined).toBe(Math.min(...present) < 3);
        if (!result.failedAt) expect([...result.sum!]).toEqual([...result.expected]);
      }),
      { numRuns: 12 },
    );
  });

  it('a site whose mask key was reconstructed rejoins the next round with fresh keys', async () => {
    const sites = makeSites(study);
    const first = await runRound(study, sites, 1, [undefined, undefined, undefined, undefined, 'upload']);
    expect([...first.sum!]).toEqual([...first.expected]);
    const second = await runRound(study, sites, 2);
    expect([...second.sum!]).toEqual([...second.expected]);
    // And never re-keys an old round.
    await expect(sites[4]!.startRound(2)).rejects.toThrow(SiteRefusal);
  });

  it('is deterministic: the same seeds and participants give the same uploads and sum', async () => {
    const a = await runRound(study, makeSites(study, 9), 1, [undefined, 'share'], 9);
    const b = await runRound(study, makeSites(study, 9), 1, [undefined, 'share'], 9);
    expect(a.uploads.map((u) => [...u.vector])).toEqual(b.uploads.map((u) => [...u.vector]));
    expect([...a.sum!]).toEqual([...b.sum!]);
  });
});

describe('what honest sites refuse', () => {
  const study = exampleStudy();

  async function toUpload(sites: Site[]) {
    const rounds = await Promise.all(sites.map((s) => s.startRound(1)));
    const roster = await makeRoster(study, 1, rounds.map((r) => r.advertise));
    const shares = await Promise.all(rounds.map((r) => r.round.share(roster)));
    const inboxes = await makeInboxes(study, 1, roster, shares);
    const uploads = await Promise.all(rounds.map((r, k) => r.round.upload(inboxes.get(k + 1)!, new Uint32Array(LENGTH).fill(k))));
    return { rounds, roster, inboxes, uploads };
  }

  it('a coordinator asking for both kinds of share of one site is refused', async () => {
    const { rounds, uploads } = await toUpload(makeSites(study));
    // It claims site 5 dropped: sites 1–3 reveal shares of site 5's mask key...
    const claimDropped = makeUnmaskRequest(study, 1, uploads.slice(0, 4));
    for (const k of [0, 1, 2]) expect((await rounds[k]!.round.reveal(claimDropped)).maskKey.map((s) => s.of)).toEqual([5]);
    // ...then claims it survived, to get shares of its self-mask seed too: refused.
    const claimSurvived = makeUnmaskRequest(study, 1, uploads);
    for (const k of [0, 1, 2]) await expect(rounds[k]!.round.reveal(claimSurvived)).rejects.toThrow(RevealRefused);
    // Sites 4 never revealed for round 1 yet: it may answer one of the two, not both.
    await rounds[3]!.round.reveal(claimSurvived);
    await expect(rounds[3]!.round.reveal(claimDropped)).rejects.toThrow(RevealRefused);
  });

  it('a reveal naming fewer than t survivors is refused', async () => {
    const { rounds, uploads } = await toUpload(makeSites(study));
    await expect(rounds[0]!.round.reveal(makeUnmaskRequest(study, 1, uploads.slice(0, 2)))).rejects.toThrow(/fewer than the threshold/);
  });

  it('a roster with a swapped key fails signature verification', async () => {
    const sites = makeSites(study);
    const rounds = await Promise.all(sites.map((s) => s.startRound(1)));
    const roster = await makeRoster(study, 1, rounds.map((r) => r.advertise));
    const evil = generateAgreementKeys(deriveRng(new Uint8Array(32), 'evil'));
    const swapped = structuredClone(roster);
    swapped.advertisements[1]!.encryptionKey = evil.publicKey;
    await expect(rounds[0]!.round.share(swapped)).rejects.toThrow(/not signed by its identity/);
    expect(rounds[0]!.round.state).toBe('failed');
    const swappedMask = structuredClone(roster);
    swappedMask.advertisements[2]!.maskKey = evil.publicKey;
    await expect(rounds[1]!.round.share(swappedMask)).rejects.toThrow(SiteRefusal);
    // The coordinator's own check refuses the same forgery at the door.
    await expect(makeRoster(study, 1, [{ ...rounds[3]!.advertise, maskKey: evil.publicKey }])).rejects.toThrow(CoordinatorRefusal);
  });

  it('messages for another study or round, or out of order, are refused', async () => {
    const sites = makeSites(study);
    const rounds = await Promise.all(sites.map((s) => s.startRound(1)));
    const roster = await makeRoster(study, 1, rounds.map((r) => r.advertise));
    await expect(rounds[0]!.round.share({ ...roster, round: 2 })).rejects.toThrow(/round 2/);
    await expect(rounds[1]!.round.share({ ...roster, study: 'ab'.repeat(32) })).rejects.toThrow(/another study/);
    await expect(rounds[2]!.round.upload({ type: 'inbox', federated: 1, study: study.hash, round: 1, site: 3, participants: [1, 2, 3], shares: [] }, new Uint32Array(1))).rejects.toThrow(/cannot upload in state "advertised"/);
  });

  it('the coordinator refuses tampered, unsigned or misdirected messages', async () => {
    const { uploads } = await toUpload(makeSites(study));
    const tampered = { ...uploads[0]!, vector: vectorToBytes(new Uint32Array(LENGTH)) };
    await expect(unmaskRound({ study, round: 1, roster: { type: 'roster', federated: 1, study: study.hash, round: 1, advertisements: [] }, participants: [1, 2, 3, 4, 5], uploads: [tampered], reveals: [] })).rejects.toThrow(/signature of site 1/);
    const replayed = { ...uploads[0]!, round: 2 };
    await expect(unmaskRound({ study, round: 2, roster: { type: 'roster', federated: 1, study: study.hash, round: 2, advertisements: [] }, participants: [1, 2, 3, 4, 5], uploads: [replayed], reveals: [] })).rejects.toThrow(/signature/);
    // Moved to another site's slot: signature still by site 1.
    await expect(unmaskRound({ study, round: 1, roster: { type: 'roster', federated: 1, study: study.hash, round: 1, advertisements: [] }, participants: [1, 2, 3, 4, 5], uploads: [{ ...uploads[0]!, site: 2 }], reveals: [] })).rejects.toThrow(/signature of site 2/);
  });
});

describe('wire format', () => {
  const study = exampleStudy();

  it('refuses a wrong version, a wrong type, malformed fields and inconsistent vectors with ProtocolError', async () => {
    const [site] = makeSites(study);
    const { advertise } = await site!.startRound(1);
    const bytes = encodeFederated(advertise);
    expect(decodeFederated(bytes, 'advertise').site).toBe(1);
    expect(() => decodeFederated(bytes, 'shares')).toThrow(/expected a "shares" message/);
    expect(() => decodeFederated(encodeFederated({ ...advertise }).slice(0, 10), 'advertise')).toThrow(/refused before decoding|not a MessagePack/);
    const wrongVersion = { ...advertise, federated: 2 } as unknown as FederatedMessage;
    expect(() => encodeFederated(wrongVersion)).toThrow();
    const masked: MaskedUpload = { type: 'masked', federated: 1, study: study.hash, round: 1, site: 1, length: 3, vector: new Uint8Array(8), signature: new Uint8Array(64) };
    expect(() => wire(masked)).toThrow(/8 bytes for 3 values/);
  });
});
