import { expect } from 'chai'
import { InvalidOptionsError, MemoryStore, createContainer, type ContainerOptions } from 'omniscient-actors'

describe('createContainer()', () => {
  it('should refuse an option it does not know, naming it and the options it takes', () => {
    const misspelt = { storage: new MemoryStore() } as unknown as ContainerOptions
    expect(() => createContainer(misspelt)).to.throw(InvalidOptionsError, /unknown option "storage".*store, clock, ids, report, actors/)
    let err: unknown
    try {
      createContainer(misspelt)
    } catch (e) {
      err = e
    }
    expect(err).to.include({ code: 'INVALID_OPTIONS' }).and.to.deep.include({ unknown: ['storage'] })
  })

  it('should refuse options that are not an object, and take none at all', async () => {
    expect(() => createContainer('memory' as unknown as ContainerOptions)).to.throw(InvalidOptionsError, /must be an object/)
    await createContainer().close()
    await createContainer({}).close()
  })
})
