// `omniscient-actors/testing`: what a user's specs import.
export {
  Given,
  Scenario,
  type ExpectedError,
  type ExpectedEvent,
  type GivenEvent,
  type GivenOptions,
  type MethodName,
  type ScenarioResult,
  type TestableActor,
  type TestableActorClass,
} from './Given.js'
export { PLACEHOLDERS } from './match.js'
