/**
 * The message codec: version refusals in words each side can act on, and the keys message of
 * protocol 2 (relin, galois and publicKey, each bytes or nil) through encode and decode.
 */
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, keysFromWire, keysToWire } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { PROTOCOL_VERSION } from './messages.ts';

const hash = (c: string) => c.repeat(64);

function refusal(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return e as ProtocolError;
  }
  throw new Error('expected a refusal');
}

describe('decodeMessage', () => {
  it('speaks protocol 2', () => {
    expect(PROTOCOL_VERSION).toBe(2);
  });

  it('refuses a protocol-1 keys message as an older client that must reload, not with a field error', () => {
    const old = encode({ type: 'keys', protocol: 1, modelHash: hash('a'), planHash: hash('b'), keyId: hash('c'), relin: new Uint8Array(8), galois: null });
    const e = refusal(() => decodeMessage(old, 'keys'));
    expect(e.code).toBe('unsupported_protocol');
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/this client speaks protocol 1, older than the service's protocol 2: reload the page/);
    expect(e.message).not.toMatch(/field|publicKey/);
  });

  it('tells each side which one is behind', () => {
    const classify = (protocol: unknown) => encode({ type: 'classify', protocol, modelHash: hash('a') });
    expect(refusal(() => decodeMessage(classify(3), 'classify')).message).toMatch(/client speaks protocol 3, newer than the service's protocol 2/);
    expect(refusal(() => decodeMessage(classify('2'), 'classify')).message).toMatch(/names no protocol version/);
    const result = (protocol: number) => encode({ type: 'result', protocol });
    expect(refusal(() => decodeMessage(result(1), 'result')).message).toMatch(/the service speaks protocol 1, older than this app's protocol 2/);
    expect(refusal(() => decodeMessage(result(3), 'result')).message).toMatch(/newer than this app's protocol 2: reload the page/);
  });

  it('carries every key field of a bundle through the wire, absent keys as nil', () => {
    const single = { planHash: hash('b'), keyId: hash('c'), relin: null, galois: null, publicKey: Uint8Array.of(1, 2, 3) };
    const batch = { planHash: hash('d'), keyId: hash('e'), relin: Uint8Array.of(4, 5), galois: null, publicKey: null };
    for (const bundle of [single, batch]) {
      const wire = encodeMessage(keysToWire(bundle, hash('a')));
      const back = keysFromWire(decodeMessage(wire, 'keys'));
      expect({ ...back, relin: back.relin && Uint8Array.from(back.relin), publicKey: back.publicKey && Uint8Array.from(back.publicKey) }).toEqual(bundle);
    }
  });

  it('refuses a protocol-2 keys message that leaves a key field out, naming the field', () => {
    const message = { type: 'keys', protocol: 2, modelHash: hash('a'), planHash: hash('b'), keyId: hash('c'), relin: null, galois: null };
    const e = refusal(() => decodeMessage(encode(message), 'keys'));
    expect(e.code).toBe('bad_request');
    expect(e.message).toMatch(/field publicKey/);
    const asString = refusal(() => decodeMessage(encode({ ...message, publicKey: 'not bytes' }), 'keys'));
    expect(asString.message).toMatch(/field publicKey: expected MessagePack binary/);
  });
});
