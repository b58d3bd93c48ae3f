import { expect } from 'chai'
import { StorageError } from 'omniscient-actors'
import { RethinkDBErrorType, type WriteResult } from 'rethinkdb-ts'
import { RethinkDBError } from 'rethinkdb-ts/lib/error/error.js'
import { failureKind, storageFailure, writeOutcome } from '../../../lib/store/rethinkdb/failures.js'
import { parseRethinkUrl } from '../../../lib/store/rethinkdb/RethinkConnection.js'

// These rules decide what a RethinkDB answer means; they need no server.

function result(fields: Partial<WriteResult>): WriteResult {
  return { deleted: 0, skipped: 0, errors: 0, inserted: 0, replaced: 0, unchanged: 0, ...fields }
}

const reql = (type: RethinkDBErrorType, msg = 'boom') => new RethinkDBError(msg, { type })

describe('RethinkStore: reading write results (no server)', () => {
  it('should read a duplicate primary key as "duplicate", not as success: RethinkDB does not throw for it', () => {
    expect(writeOutcome(result({ errors: 1, first_error: 'Duplicate primary key `id`:\n{...}' }), 'append')).to.equal('duplicate')
  })

  it('should throw a typed error for any other document error', () => {
    expect(() => writeOutcome(result({ errors: 1, first_error: 'Cannot perform write: primary replica for shard ["", +inf) not available' }), 'append'))
      .to.throw(StorageError, /primary replica/)
  })

  it('should tell a write from a no-op, and refuse a result that reports nothing at all', () => {
    expect(writeOutcome(result({ inserted: 1 }), 'append')).to.equal('written')
    expect(writeOutcome(result({ replaced: 1 }), 'append')).to.equal('written')
    expect(writeOutcome(result({ unchanged: 1 }), 'append')).to.equal('unchanged')
    expect(writeOutcome(result({ skipped: 1 }), 'append')).to.equal('unchanged')
    expect(() => writeOutcome(result({}), 'append')).to.throw(StorageError, /no write at all/)
  })
})

describe('RethinkStore: classifying failures (no server)', () => {
  it('should call OP_INDETERMINATE on a write indeterminate, and on a read merely unavailable', () => {
    expect(failureKind(reql(RethinkDBErrorType.OP_INDETERMINATE), true)).to.equal('indeterminate')
    expect(failureKind(reql(RethinkDBErrorType.OP_INDETERMINATE), false)).to.equal('unavailable')
  })

  it('should call a lost connection during a write indeterminate: the server may have applied it', () => {
    expect(failureKind(reql(RethinkDBErrorType.CONNECTION), true)).to.equal('indeterminate')
    expect(failureKind(reql(RethinkDBErrorType.TIMEOUT), true)).to.equal('indeterminate')
    expect(failureKind(reql(RethinkDBErrorType.CONNECTION), false)).to.equal('unavailable')
  })

  it('should call failures that certainly wrote nothing unavailable, and query errors fatal', () => {
    expect(failureKind(reql(RethinkDBErrorType.OP_FAILED), true)).to.equal('unavailable')
    expect(failureKind(reql(RethinkDBErrorType.POOL_FAIL), true)).to.equal('unavailable')
    expect(failureKind(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true)).to.equal('unavailable')
    expect(failureKind(reql(RethinkDBErrorType.QUERY_LOGIC), true)).to.equal('fatal')
    expect(failureKind(new TypeError('x is not a function'), false)).to.equal('fatal')
  })

  it("should carry the server's words (.msg), with a code callers can branch on", () => {
    const err = storageFailure(reql(RethinkDBErrorType.OP_INDETERMINATE, 'Cannot perform write: lost contact with primary replica.'), 'append to "s"', true)
    expect(err).to.be.instanceOf(StorageError).and.to.include({ code: 'STORAGE_INDETERMINATE' })
    expect((err as Error).message).to.equal('RethinkDB append to "s" failed: Cannot perform write: lost contact with primary replica.')
  })
})

describe('RethinkStore: server URLs (no server)', () => {
  it('should read host, port, database and credentials, with defaults', () => {
    expect(parseRethinkUrl('rethinkdb://app:s%40cret@db.local:28016/shop')).to.deep.equal({ host: 'db.local', port: 28016, db: 'shop', user: 'app', password: 's@cret' })
    expect(parseRethinkUrl('rethinkdb://127.0.0.1')).to.deep.equal({ host: '127.0.0.1', port: 28015, db: 'omniscient' })
  })

  it('should refuse what is not a rethinkdb:// URL', () => {
    expect(() => parseRethinkUrl('postgres://x/y')).to.throw(StorageError).with.property('code', 'INVALID_URL')
    expect(() => parseRethinkUrl('not a url')).to.throw(StorageError).with.property('code', 'INVALID_URL')
  })
})
