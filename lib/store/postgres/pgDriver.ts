// `pg`, loaded once for the PostgreSQL adapter. It is an optional peer dependency, installed
// only by those who use PostgreSQL: without it, importing `omniscient-actors/postgres` fails
// with one line that says `npm install pg`.
import { createRequire } from 'node:module'
import type Pg from 'pg'
import { requireDriver } from '../kit/requireDriver.js'

export const pg = requireDriver<typeof Pg>(createRequire(import.meta.url), 'pg', 'omniscient-actors/postgres')
