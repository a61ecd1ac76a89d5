/**
 * Things the person should know that no screen asked about: a stored record set aside because it
 * could not be read, a model the service described in a way this version cannot use. Said once
 * each, in plain words, and dismissable.
 */
export class Notices {
  #items = $state.raw<string[]>([]);

  get items(): readonly string[] {
    return this.#items;
  }

  add(words: string): void {
    if (!this.#items.includes(words)) this.#items = [...this.#items, words];
  }

  dismiss(words: string): void {
    this.#items = this.#items.filter((w) => w !== words);
  }
}
