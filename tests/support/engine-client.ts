/** The second client path: our own engine (HeClient) and protocol codec over HTTP. */
import { HeClient, parsePlan, type EncryptedInput, type EncryptedResult, type LayoutName } from '../../src/core/he/index.ts';
import type { ModelCard } from '../../src/core/model/card.ts';
import { API, decodeMessage, encodeMessage, inputToWire, keysToWire, MSGPACK_TYPE, resultFromWire, type KeyReceipt } from '../../src/core/protocol/index.ts';

async function post(url: string, bytes: Uint8Array): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': MSGPACK_TYPE }, body: bytes });
}

export class EngineClient {
  private constructor(
    readonly base: string,
    readonly card: ModelCard,
    readonly he: HeClient,
    public keyId = '',
  ) {}

  static async connect(base: string, modelId: string, layout: LayoutName): Promise<EngineClient> {
    const card = (await (await fetch(base + API.model(modelId))).json()) as ModelCard;
    const plan = parsePlan(card.plans[layout]);
    return new EngineClient(base, card, await HeClient.create(plan));
  }

  async registerKeys(): Promise<{ status: number; receipt: KeyReceipt }> {
    const bundle = this.he.evaluationKeys();
    const res = await post(this.base + API.keys, encodeMessage(keysToWire(bundle, this.card.modelHash)));
    const receipt = (await res.json()) as KeyReceipt;
    if (res.ok) this.keyId = receipt.keyId;
    return { status: res.status, receipt };
  }

  async send(input: EncryptedInput): Promise<EncryptedResult> {
    const res = await post(this.base + API.classify(this.card.id), encodeMessage(inputToWire(input, this.keyId)));
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`classify ${res.status}: ${new TextDecoder().decode(bytes)}`);
    return resultFromWire(decodeMessage(bytes, 'result'));
  }

  /** Encrypts any number of records, one request per input, and decrypts the scores. */
  async classify(records: readonly Int32Array[]): Promise<number[]> {
    const scores: number[] = [];
    for (const input of this.he.encryptRecords(records)) scores.push(...this.he.decryptScores(await this.send(input)));
    return scores;
  }

  dispose(): void {
    this.he.dispose();
  }
}
