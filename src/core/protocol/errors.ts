/**
 * Every refusal the service can give, as a stable code with its HTTP status. Clients branch on
 * the code (never on the message, which is for people); the table is mirrored in
 * docs/protocol.md.
 */
export const ERROR_STATUS = {
  /** The body is not a well-formed message: not MessagePack or JSON, a missing or mistyped field. */
  bad_request: 400,
  /** The message speaks another protocol version. */
  unsupported_protocol: 400,
  /** Ciphertext count, record count or layout do not fit the plan. */
  shape_mismatch: 400,
  /** The key id is not the hash of the key bytes. */
  key_id_mismatch: 400,
  /** A published model file is not a valid TernaryNet. */
  invalid_model: 400,
  /** A study manifest is not valid (the message names the field). */
  invalid_study: 400,
  unauthorized: 401,
  /** The admin token is wrong. */
  forbidden: 403,
  not_found: 404,
  unknown_model: 404,
  unknown_plan: 404,
  /** No evaluation keys under this id (never registered, or expired): register them again. */
  unknown_key: 404,
  /** No study under this id. */
  unknown_study: 404,
  /** The message was made for another version of the model: fetch the card again. */
  model_mismatch: 409,
  /** The ciphertexts and the plan, or the keys and the plan, do not belong together. */
  plan_mismatch: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** SEAL refused the ciphertexts: truncated, garbage, other parameters, transparent, stale level. */
  ciphertext_refused: 422,
  /** SEAL refused the evaluation keys, or rotation keys the plan needs are missing. */
  keys_refused: 422,
  /** A published model parses but no encryption parameters can run it. */
  model_not_compilable: 422,
  /**
   * A site's message does not fit the study's current round: another study or round, the wrong
   * step, late, sent twice, a signature that does not verify, a site not in the round.
   */
  study_refused: 409,
  /** An Idempotency-Key was already used with another request body. */
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal: 500,
  /** The evaluation queue is full: retry after the Retry-After header. */
  busy: 503,
  /** The request waited or ran longer than the time limit: retry after Retry-After. */
  timeout: 503,
  /** The server is still compiling its models. */
  not_ready: 503,
  /** The key store cannot take writes now (read-only, failing): retry after Retry-After. */
  storage_unavailable: 503,
  /** The key store's disk is full: retry after Retry-After. */
  storage_full: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The JSON body of every refusal. */
export interface ErrorBody {
  protocol: number;
  error: { code: ErrorCode; message: string };
}

/** A refusal with its code; `status` is the HTTP status the protocol gives it. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
