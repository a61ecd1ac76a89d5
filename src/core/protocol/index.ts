/** The client ⇄ server protocol: message shapes, their MessagePack codec, routes and errors. */
export * from './messages.ts';
export * from './codec.ts';
export * from './errors.ts';
export * from './bounds.ts';
export { API } from './paths.ts';
