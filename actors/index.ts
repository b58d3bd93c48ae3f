export { Actor, type ActorClass, type ActorStatics, type FireArgs, type FireOptions } from './Actor.js'
export { LiveActor } from './LiveActor.js'
