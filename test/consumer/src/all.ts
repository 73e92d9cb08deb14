// Re-exports the whole public face, so that with skipLibCheck: false every published
// declaration is loaded and checked (a reference to a stripped @internal type fails here).
export * from 'interlock';
export * as machines from 'interlock/machines';
export * as client from 'interlock/client';
