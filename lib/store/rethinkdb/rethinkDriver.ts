// `rethinkdb-ts`, loaded once for the RethinkDB adapter: its values (`r`, the error helpers) come
// from here, its types straight from 'rethinkdb-ts'. It is an optional peer dependency,
// installed only by those who use RethinkDB: without it, importing `omniscient-actors/rethinkdb`
// fails with one line that says `npm install rethinkdb-ts`.
import { createRequire } from 'node:module'
import type * as Rethink from 'rethinkdb-ts'
import { requireDriver } from '../kit/requireDriver.js'

const driver = requireDriver<typeof Rethink>(createRequire(import.meta.url), 'rethinkdb-ts', 'omniscient-actors/rethinkdb')

export const r = driver.r
export const isRethinkDBError = driver.isRethinkDBError
export const RethinkDBErrorType = driver.RethinkDBErrorType
export type RethinkDBErrorType = Rethink.RethinkDBErrorType
