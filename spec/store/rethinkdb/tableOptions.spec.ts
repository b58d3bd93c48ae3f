import { expect } from 'chai'
import { InvalidOptionsError } from 'omniscient-actors'
import { RethinkStore, type RethinkStoreOptions } from 'omniscient-actors/rethinkdb'
import { TABLE_NAMES, tableCreateOptions } from '../../../lib/store/rethinkdb/schema.js'

// The layout of the tables on a cluster, as handed to tableCreate; needs no server.

describe('RethinkStore table layout (replicas, shards)', () => {
  it('should create five tables, each with hard durability and one replica by default', () => {
    expect(TABLE_NAMES).to.deep.equal(['commits', 'log', 'snapshots', 'checkpoints', 'leases'])
    expect(tableCreateOptions({})).to.deep.equal({ durability: 'hard' })
  })

  it('should pass replicas and shards on to every table it creates', () => {
    expect(tableCreateOptions({ replicas: 3 })).to.deep.equal({ durability: 'hard', replicas: 3 })
    expect(tableCreateOptions({ replicas: 3, shards: 2 })).to.deep.equal({ durability: 'hard', replicas: 3, shards: 2 })
  })

  it('should take replicas per server tag with the tag of the primaries', () => {
    expect(tableCreateOptions({ replicas: { dc1: 2, dc2: 1 }, primaryReplicaTag: 'dc1' })).to.deep.equal({
      durability: 'hard',
      replicas: { dc1: 2, dc2: 1 },
      primaryReplicaTag: 'dc1',
    })
  })

  it('should refuse a layout RethinkDB would refuse, before any server sees it', () => {
    const bad: RethinkStoreOptions[] = [
      { replicas: 0 },
      { replicas: 1.5 },
      { shards: 65 },
      { shards: 0 },
      { replicas: { dc1: 2 } },
      { replicas: { dc1: 2 }, primaryReplicaTag: 'dc2' },
      { replicas: {}, primaryReplicaTag: 'dc1' },
      { replicas: 3, primaryReplicaTag: 'dc1' },
    ]
    for (const layout of bad) {
      expect(() => tableCreateOptions(layout), JSON.stringify(layout)).to.throw(InvalidOptionsError)
      expect(() => new RethinkStore(layout), JSON.stringify(layout)).to.throw(InvalidOptionsError)
    }
  })

  it('should refuse an option it does not know, naming the ones it takes', () => {
    const misspelt = { replica: 3 } as unknown as RethinkStoreOptions
    expect(() => new RethinkStore(misspelt)).to.throw(InvalidOptionsError, /unknown option "replica".*replicas/)
  })
})
