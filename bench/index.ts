// `npm run bench`: every figure of docs/benchmarks.md, measured in one run.
import { cpus } from 'node:os'
import { benchCli } from './cli.js'
import { benchCore } from './core.js'
import { benchFollowers } from './followers.js'
import { benchLive } from './live.js'
import { benchOne } from './one.js'
import { benchPg } from './pg.js'
import { benchRead } from './read.js'
import { benchReadPg } from './readPg.js'
import { benchRethink } from './rethink.js'
import { benchShards } from './shards.js'
import { benchSync } from './sync.js'
import { benchTelemetry } from './telemetry.js'

console.log(`omniscient-actors benchmarks: Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`)
await benchCore()
await benchTelemetry()
await benchLive()
await benchFollowers()
await benchOne()
await benchShards()
await benchRead()
await benchPg()
await benchReadPg()
await benchRethink()
await benchCli()
await benchSync()
