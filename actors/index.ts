export { Actor, type ActorClass, type ActorStatics, type FireArgs, type FireOptions } from './Actor.js'
export { LiveActor } from './LiveActor.js'
export { OneActor, type OneActorStatics } from './OneActor.js'
export { TickActor, tickEvents, type TickActorStatics, type TickData } from './TickActor.js'
