/** Hash routes (#/patient, #/clinic, …): work from any static host, no server routes needed. */
export const ROUTES = ['patient', 'clinic', 'lab', 'study', 'history', 'keys', 'how'] as const;
export type Route = (typeof ROUTES)[number];

const parse = (hash: string): Route => {
  // A route may carry parameters after '?' (an invitation link: #/study?url=…&id=…).
  const name = hash.replace(/^#\/?/, '').split('?')[0]!;
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
