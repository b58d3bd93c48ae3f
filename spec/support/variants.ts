/**
 * `SPEC_VARIANTS=extra` (set by `npm run test:faults` and `npm run test:rethink`) runs the spec
 * variants that `npm test` leaves out to stay within its time, instead of the usual ones: the
 * multi-process specs on the store servers given (PostgreSQL, RethinkDB) rather than on
 * SQLite, and the PgStore contract without prepared statements rather than with them.
 */
export const extraVariants = process.env['SPEC_VARIANTS'] === 'extra'
