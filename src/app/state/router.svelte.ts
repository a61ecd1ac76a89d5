/** Hash routes (#/patient, #/clinic, …): work from any static host, no server routes needed. */
export const ROUTES = ['patient', 'clinic', 'lab', 'history', 'keys', 'how'] as const;
export type Route = (typeof ROUTES)[number];

const parse = (hash: string): Route => {
  const name = hash.replace(/^#\/?/, '');
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'patient';
};

export class Router {
  #route = $state<Route>(parse(location.hash));

  constructor() {
    addEventListener('hashchange', () => {
      this.#route = parse(location.hash);
    });
  }

  get route(): Route {
    return this.#route;
  }
}
