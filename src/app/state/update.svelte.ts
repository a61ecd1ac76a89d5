/**
 * The service worker, seen from the page: registered after the page has loaded (so installing
 * it, which downloads the whole app for offline use, never competes with the first screen),
 * "ready to work offline" once installed, and a new version announced when one has installed
 * and is waiting. It is applied only when the person agrees; then every tab reloads into it.
 */
import { registerSW } from 'virtual:pwa-register';

/** How often an open tab asks the server whether a new version exists. */
const CHECK_EVERY_MS = 60 * 60 * 1000;

export class AppUpdate {
  readonly version = __APP_VERSION__;
  #available = $state(false);
  #offlineReady = $state(false);
  #applying = $state(false);
  #apply: (() => Promise<void>) | undefined;
  #registration: ServiceWorkerRegistration | undefined;

  /** A new version is installed and waiting for the person's agreement. */
  get available() {
    return this.#available;
  }
  /** The whole app is cached: it opens without a network. */
  get offlineReady() {
    return this.#offlineReady;
  }
  get applying() {
    return this.#applying;
  }

  start(): void {
    if (!('serviceWorker' in navigator)) return;
    this.#apply = registerSW({
      onNeedRefresh: () => (this.#available = true),
      onOfflineReady: () => (this.#offlineReady = true),
      onRegisteredSW: (_url, registration) => {
        this.#registration = registration;
        if (registration?.active) this.#offlineReady = true;
        setInterval(() => void this.check(), CHECK_EVERY_MS);
      },
    });
  }

  /** Asks the server for a new version now (also done hourly and when the network returns). */
  async check(): Promise<void> {
    if (navigator.onLine) await this.#registration?.update().catch(() => undefined);
  }

  /** Switches to the waiting version; the page reloads when it has taken over. */
  async apply(): Promise<void> {
    this.#applying = true;
    await this.#apply?.();
  }

  /** Keeps the current version for now (the new one still applies when every tab is closed). */
  later(): void {
    this.#available = false;
  }
}
