import { describe, expect, it } from 'vitest';
import { exampleStudy } from './fixtures.ts';
import { ManifestError, parseManifest, pinManifest, siteAt, siteIndexOf, studyHash } from './manifest.ts';

describe('study manifest', () => {
  const study = exampleStudy();

  it('hashes the canonical JSON: key order does not matter, content does', () => {
    const reordered = Object.fromEntries(Object.entries(study.manifest).reverse());
    expect(parseManifest(reordered).hash).toBe(study.hash);
    expect(parseManifest({ ...study.manifest, title: 'Other' }).hash).not.toBe(study.hash);
    expect(studyHash(study.manifest)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is pinned by hash: a different manifest is refused with both hashes named', () => {
    expect(pinManifest(study.manifest, study.hash).hash).toBe(study.hash);
    const swapped = structuredClone(study.manifest);
    swapped.sites[0]!.identityKey = study.manifest.sites[1]!.identityKey.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    expect(() => pinManifest(swapped, study.hash)).toThrow(ManifestError);
    expect(() => pinManifest(swapped, study.hash)).toThrow(/is not the pinned/);
  });

  it('refuses a wrong format or version, and names the field', () => {
    expect(() => parseManifest({ ...study.manifest, version: 2 })).toThrow(/version/);
    expect(() => parseManifest({ ...study.manifest, format: 'x' })).toThrow(/format/);
  });

  it('needs 2t > N, t ≤ N, noiseShares ≤ t, distinct sites and keys', () => {
    const m = study.manifest;
    expect(() => parseManifest({ ...m, threshold: 2 })).toThrow(/half/); // N = 5
    expect(() => parseManifest({ ...m, threshold: 6 })).toThrow(/exceeds the 5 sites/);
    expect(() => parseManifest({ ...m, privacy: { ...m.privacy!, noiseShares: 4 } })).toThrow(/noiseShares/);
    expect(() => parseManifest({ ...m, sites: [...m.sites.slice(0, 4), { ...m.sites[4]!, id: 'site-1' }] })).toThrow(/twice/);
    expect(() => parseManifest({ ...m, sites: [...m.sites.slice(0, 4), { ...m.sites[4]!, identityKey: m.sites[0]!.identityKey }] })).toThrow(/twice/);
    expect(parseManifest({ ...m, privacy: null }).manifest.privacy).toBeNull();
  });

  it('finds sites by key and by 1-based index', () => {
    expect(siteIndexOf(study.manifest, study.manifest.sites[2]!.identityKey)).toBe(3);
    expect(siteAt(study.manifest, 3).id).toBe('site-3');
    expect(() => siteAt(study.manifest, 0)).toThrow(ManifestError);
    expect(() => siteIndexOf(study.manifest, '00'.repeat(32))).toThrow(/not one of/);
  });
});
