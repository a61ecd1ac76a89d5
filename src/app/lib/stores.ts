/**
 * The page's IndexedDB stores (idb-keyval keeps one object store per database, so one database
 * each). Nothing here is secret: the key ring lives in the HE worker's own database.
 *  - cards: the server's model cards, for offline use;
 *  - registrations: which evaluation keys the server holds for which key and plan;
 *  - history: past predictions, kept only on this device;
 *  - outbox: predictions encrypted while offline, waiting to be sent (ciphertexts and public keys).
 */
import { createStore } from 'idb-keyval';

export const cardStore = createStore('cipherclinic-cards', 'cards');
export const registrationStore = createStore('cipherclinic-registrations', 'registrations');
export const historyStore = createStore('cipherclinic-history', 'history');
export const outboxStore = createStore('cipherclinic-outbox', 'outbox');
