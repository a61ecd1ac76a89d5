/** The service's routes, in one place for the server, the browser client and the docs. */
export const API = {
  health: '/api/health',
  ready: '/api/ready',
  models: '/api/models',
  model: (id: string) => `/api/models/${encodeURIComponent(id)}`,
  classify: (id: string) => `/api/models/${encodeURIComponent(id)}/classify`,
  keys: '/api/keys',
  publishModel: '/api/admin/models',
  createStudy: '/api/admin/studies',
  studies: '/api/studies',
  study: (id: string) => `/api/studies/${encodeURIComponent(id)}`,
  studyManifest: (id: string) => `/api/studies/${encodeURIComponent(id)}/manifest`,
  stopStudy: (id: string) => `/api/admin/studies/${encodeURIComponent(id)}/stop`,
  /** POST a site's signed message of a round: advertise, shares, masked, reveal. */
  studyMessage: (id: string, type: 'advertise' | 'shares' | 'masked' | 'reveal') => `/api/studies/${encodeURIComponent(id)}/${type}`,
  /** GET what the coordinator sends in a round: its weights, the roster, an inbox (?site=), the unmask request. */
  studyRound: (id: string, round: number, what: 'weights' | 'roster' | 'inbox' | 'unmask') => `/api/studies/${encodeURIComponent(id)}/rounds/${round}/${what}`,
} as const;
