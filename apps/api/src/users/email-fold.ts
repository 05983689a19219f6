/**
 * The one case folding of emails, for every place that compares them: the
 * registration's event, its reservation, an import's reservations, verify and
 * the migration that folds reservations backfilled by SQL. Folded in the app
 * and stored folded; SQL never folds, because PostgreSQL's `lower()` follows
 * the database's locale and differs from JavaScript's (e.g. `İ` becomes `i`
 * under C.UTF-8, `i̇` in JavaScript), so two folds would let one address be
 * held twice.
 */
export const foldEmail = (email: string): string => email.toLowerCase();
