/** Injection tokens for what the bootstrap loads before Nest starts. */
export const APP_CONTEXT = Symbol('APP_CONTEXT');
