import { expect } from 'chai'
import { InvalidOptionsError } from 'omniscient-actors'
import { PgStore, type PgStoreOptions } from 'omniscient-actors/postgres'

// Checked in the constructor, before any connection: needs no server.
describe('PgStore options', () => {
  it('should refuse an option it does not know, naming the ones it takes', () => {
    const misspelt = { connectionstring: 'postgres://localhost/x' } as unknown as PgStoreOptions
    expect(() => new PgStore(misspelt)).to.throw(InvalidOptionsError, /unknown option "connectionstring".*connectionString, pool, schema/)
  })
})
