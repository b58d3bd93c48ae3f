// `omniscient-actors/testing`: what a user's specs import.
export {
  Given,
  Scenario,
  type CatalogOf,
  type ExpectedError,
  type ExpectedEvent,
  type FiringClass,
  type GivenEvent,
  type GivenFits,
  type GivenOptions,
  type MethodName,
  type Placeholder,
  type ScenarioResult,
  type StatePattern,
  type TestableActor,
  type TestableActorClass,
} from './Given.js'
export { PLACEHOLDERS } from './match.js'
