/** The service's routes, in one place for the server, the browser client and the docs. */
export const API = {
  health: '/api/health',
  ready: '/api/ready',
  models: '/api/models',
  model: (id: string) => `/api/models/${encodeURIComponent(id)}`,
  classify: (id: string) => `/api/models/${encodeURIComponent(id)}/classify`,
  keys: '/api/keys',
  publishModel: '/api/admin/models',
} as const;
