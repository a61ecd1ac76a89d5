/**
 * The protocol's constants, without the message schemas: what a client needs to talk to the
 * service (version, content type, header name) in a module that pulls in no validation library,
 * so the browser's first bundle stays small. messages.ts re-exports them.
 */

/**
 * Version of the message shapes in messages.ts. A change that an old peer cannot read bumps it.
 * 2: the keys message carries relin, galois and publicKey, each bytes or nil, as the plan's
 * `keys` asks; a single result is a packed sparse result rather than a SEAL ciphertext.
 */
export const PROTOCOL_VERSION = 2;
/** Content type of binary messages. */
export const MSGPACK_TYPE = 'application/msgpack';
/** Response header that names the protocol version on every API answer. */
export const PROTOCOL_HEADER = 'cipherclinic-protocol';
/** Header the app's service worker adds to a model list it answered from its cache: when it was cached. */
export const CACHED_AT_HEADER = 'x-cipherclinic-cached-at';

/** Upper bound on ciphertexts in one message: far above any plan, far below a memory problem. */
export const MAX_CIPHERTEXTS = 1024;
