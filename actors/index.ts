export { Actor, type ActorClass, type ActorStatics, type FireArgs } from './Actor.js'
