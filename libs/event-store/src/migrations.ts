/**
 * What an application's own migrations need (`@app/event-store/migrations`): they run with the
 * store's, in the store's schema, so they name tables through the schema the runner is set to.
 */
export { quoteIdent, schemaOf } from './postgres/migrations/schema-of';
