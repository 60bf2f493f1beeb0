/** Admission handlers without IO: the review decision, the JSONPatch, the webhook configurations. */
export * from './types.ts';
export * from './jsonpatch.ts';
export * from './review.ts';
export * from './configuration.ts';
export * from './options.ts';
