/**
 * The study manifest: what an operator fixes before any site joins — the data (features and
 * label), the network, the schedule, the update quantization, the privacy budget and noise,
 * the threshold t and the sites with their Ed25519 identity keys. Its content hash (SHA-256 of
 * the RFC 8785 canonical JSON) is the study hash: each site compares it with the operator out
 * of band, and every signature and key derivation of a round is bound to it, so a coordinator
 * cannot show different sites different studies, nor swap a site's keys.
 */
import { z } from 'zod';
import { hashJson } from '../hash.ts';
import { FeatureSpecSchema } from '../model/format.ts';
import { firstIssue } from '../schema-issue.ts';

export const STUDY_FORMAT = 'cipherclinic/study';
export const STUDY_VERSION = 1;

/** Shamir shares are bytes over GF(2^8) with distinct non-zero x: at most 255 shares. */
export const MAX_SITES = 255;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (32 bytes)');
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes').max(64);
const positive = z.number().finite().positive();

export const StudySiteSchema = z.object({
  /** Stable short name of the hospital (lowercase, digits, dashes). */
  id: slug,
  /** What people read. */
  name: z.string().min(1).max(200),
  /** Ed25519 identity public key, hex. The site signs its round keys and requests with it. */
  identityKey: hex32,
});
export type StudySite = z.infer<typeof StudySiteSchema>;

export const StudyManifestSchema = z
  .object({
    format: z.literal(STUDY_FORMAT),
    version: z.literal(STUDY_VERSION),
    id: slug,
    title: z.string().min(1).max(200),
    /** The inputs, in order, as every site's CSV must provide them. */
    features: z.array(FeatureSpecSchema).min(1).max(256),
    /**
     * Public standardization of each feature (population mean and standard deviation, e.g. from
     * published norms): sites may not pool statistics of their records. Absent: the midpoint of
     * each feature's range and a quarter of its width.
     */
    standardization: z.object({ mean: z.array(z.number().finite()), std: z.array(positive) }).optional(),
    /** Name of the 0/1 label column. */
    label: z.string().min(1),
    /**
     * Expected share of the positive class (public, e.g. from the literature): classes are
     * weighted to balance in the loss, and the published model's risks are calibrated to it.
     * Absent: 0.5 (no weighting).
     */
    prevalence: z.number().gt(0).lt(1).optional(),
    /** [negative class, positive class]. */
    classes: z.tuple([z.string().min(1), z.string().min(1)]),
    network: z.object({ hidden: z.number().int().min(1).max(512) }),
    schedule: z.object({
      /** Rounds at most (the accountant may stop the study earlier). */
      rounds: z.number().int().min(1).max(100_000),
      learningRate: positive,
      /** q: each record takes part in a round independently with this probability (Poisson). */
      samplingRate: z.number().gt(0).max(1),
      /** Seconds a step of a round waits before it closes with whoever has answered. */
      stepSeconds: z.number().int().min(1).max(86_400),
    }),
    update: z.object({
      /** C: each record's gradient is clipped to this L2 norm before anything else. */
      clip: positive,
      /** Integers per unit: a clipped gradient is multiplied by this and rounded. */
      scale: positive,
      /** Updates are summed in Z_{2^bits}. */
      bits: z.literal(32),
    }),
    /** null: secure aggregation only, no differential privacy (for baselines; cards say so). */
    privacy: z
      .object({
        epsilon: positive,
        delta: z.number().gt(0).lt(1),
        /** z: the aggregate noise's standard deviation is z · C (in the unscaled domain). */
        noiseMultiplier: positive,
        /** h ≤ t: any h honest survivors together carry the full noise (default t). */
        noiseShares: z.number().int().min(1).optional(),
      })
      .nullable(),
    /** t: sites needed at every step of a round, and shares needed to reconstruct a secret. */
    threshold: z.number().int().min(2),
    sites: z.array(StudySiteSchema).min(2).max(MAX_SITES),
  })
  .superRefine((m, ctx) => {
    const n = m.sites.length;
    if (m.threshold > n) ctx.addIssue({ code: 'custom', path: ['threshold'], message: `threshold ${m.threshold} exceeds the ${n} sites` });
    // 2t > N: a coordinator that names different survivor sets to different honest sites cannot
    // collect t shares of both secrets of one site (docs/federated.md §2, item 3).
    if (2 * m.threshold <= n) ctx.addIssue({ code: 'custom', path: ['threshold'], message: `threshold ${m.threshold} must exceed half of the ${n} sites` });
    if (m.privacy?.noiseShares !== undefined && m.privacy.noiseShares > m.threshold) {
      ctx.addIssue({ code: 'custom', path: ['privacy', 'noiseShares'], message: `noiseShares ${m.privacy.noiseShares} exceeds the threshold ${m.threshold}: fewer survivors than that would carry less than the full noise` });
    }
    const ids = new Set<string>();
    const keys = new Set<string>();
    m.sites.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sites', i, 'id'], message: `site id "${s.id}" appears twice` });
      if (keys.has(s.identityKey)) ctx.addIssue({ code: 'custom', path: ['sites', i, 'identityKey'], message: 'the same identity key appears twice' });
      ids.add(s.id);
      keys.add(s.identityKey);
    });
    if (m.standardization && (m.standardization.mean.length !== m.features.length || m.standardization.std.length !== m.features.length)) {
      ctx.addIssue({ code: 'custom', path: ['standardization'], message: `standardization needs one mean and one std per feature (${m.features.length})` });
    }
    const names = new Set(m.features.map((f) => f.name));
    if (names.size !== m.features.length) ctx.addIssue({ code: 'custom', path: ['features'], message: 'feature names must be distinct' });
    if (names.has(m.label)) ctx.addIssue({ code: 'custom', path: ['label'], message: 'the label is also a feature' });
  });

export type StudyManifest = z.infer<typeof StudyManifestSchema>;

/** A manifest with its hash, as a site holds it after checking the hash out of band. */
export interface PinnedStudy {
  manifest: StudyManifest;
  /** Hex SHA-256 of the manifest's canonical JSON. */
  hash: string;
}

/** Why a manifest was refused; the message names the field. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** Hex SHA-256 of the manifest's RFC 8785 canonical JSON: the study hash. */
export function studyHash(manifest: StudyManifest): string {
  return hashJson(manifest);
}

/** Validates a manifest's JSON (zod's first issue names the field) and hashes it. */
export function parseManifest(json: unknown): PinnedStudy {
  const parsed = StudyManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(`study manifest: ${firstIssue(parsed.error, '(manifest)')}`);
  }
  return { manifest: parsed.data, hash: studyHash(parsed.data) };
}

/**
 * Parses a manifest and checks it against the hash the site's operator pinned (compared out of
 * band). Throws ManifestError naming both hashes when they differ.
 */
export function pinManifest(json: unknown, expectedHash: string): PinnedStudy {
  const pinned = parseManifest(json);
  if (pinned.hash !== expectedHash.toLowerCase()) {
    throw new ManifestError(`study manifest hash ${pinned.hash} is not the pinned ${expectedHash}: refuse to join`);
  }
  return pinned;
}

/** 1-based index of the site with this identity key, or throws. */
export function siteIndexOf(manifest: StudyManifest, identityKeyHex: string): number {
  const i = manifest.sites.findIndex((s) => s.identityKey === identityKeyHex.toLowerCase());
  if (i < 0) throw new ManifestError('this identity key is not one of the study\'s sites');
  return i + 1;
}

/** The site at a 1-based index, or throws. */
export function siteAt(manifest: StudyManifest, index: number): StudySite {
  const site = Number.isInteger(index) ? manifest.sites[index - 1] : undefined;
  if (!site) throw new ManifestError(`no site ${index} in a study of ${manifest.sites.length}`);
  return site;
}

/** h: how many honest survivors carry the full noise (manifest value, default t). */
export function noiseSharesOf(manifest: StudyManifest): number {
  return manifest.privacy?.noiseShares ?? manifest.threshold;
}
