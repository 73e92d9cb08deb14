export { sessionMachine, type SessionOptions, type SessionEvent, type SessionEmitted, type SessionContext, type BusyPolicy, type DisconnectPolicy, type EndReason } from './session.js';
export { agentMachine, agentKind, agentRestartInput, nextViable, type AgentCarry, type AgentOptions, type AgentEvent, type AgentEmitted, type AgentContext, type Subscription } from './agent.js';
export { workerMachine, type WorkerOptions, type WorkerEvent, type WorkerContext } from './worker.js';
