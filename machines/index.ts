export { sessionMachine, type SessionOptions, type SessionEvent, type SessionEmitted, type SessionContext, type BusyPolicy, type DisconnectPolicy, type EndReason } from './session.js';
export {
  agentMachine,
  agentKind,
  agentRestartInput,
  nextViable,
  reportSubscriptionFailure,
  validateAgentEvent,
  type AgentCarry,
  type AgentOptions,
  type AgentEvent,
  type AgentInternalEvent,
  type AgentEmitted,
  type AgentContext,
  type HandleContext,
  type Subscription,
} from './agent.js';
export { workerMachine, workerKind, workerRestartInput, type WorkerCarry, type WorkerOptions, type WorkerEvent, type WorkerInternalEvent, type WorkerContext } from './worker.js';
