// Piscina worker entry. Worker threads do not inherit the main thread's TypeScript loader, so
// this plain module registers tsx in the thread, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
const { default: handle } = await import('./worker.ts');
export default handle;
