export { createRuntime, type RuntimeOptions } from './runtime/createRuntime.js';
// The class is exported as a type only: create a runtime with createRuntime().
export type { Runtime, ShutdownOptions } from './runtime/Runtime.js';
export type {
  ActorHandle,
  AskOptions,
  TellOptions,
  Kinds,
  EventForAddress,
  KindInfo,
  ActorView,
  HandleForAddress,
} from './runtime/handles.js';
export { INTERNAL_PREFIX, isInternalType, isReservedType, type InternalEvent, type InternalEventOf, type PublicEvent } from './events.js';
export type { KindConfig, MailboxPolicy, SupervisionPolicy, BackoffPolicy, MachineNeeds } from './kinds.js';
export { reply, fail, runTask, abortTask, fenceTask, heartbeat, requestId, addressOf, type TurnArgs } from './runtime/helpers.js';
export { tellSelf } from './runtime/helpers.js';
export type { TaskContext } from './runtime/TaskSet.js';
export { errors } from './errors.js';
export type { BusRecord, RecordType, ResumePoint } from './bus/records.js';
export type { Priority } from './mailbox/envelope.js';
export { systemClock, SimulatedClock, flushMicrotasks, type Clock, type TimerRole } from './clock.js';
export { memoryStore, type SnapshotStore } from './store/SnapshotStore.js';
export { InterlockError, isInterlockError, ErrorCodes, type ErrorCode } from './errors.js';
export { parseAddress, formatAddress } from './address.js';
export type { RuntimeStats, AddressStats, KindStatsSnapshot, HistogramSnapshot } from './runtime/stats.js';
export { LATENCY_BUCKETS_MS } from './runtime/stats.js';
export { openAICompatible, simulated, type OpenAICompatibleOptions, type SimulatedOptions } from './providers/index.js';
export type { Provider, ProviderChunk, ChatMessage, ChatRequest } from './providers/index.js';
export * from './sources/index.js';
export { eachValue } from './runtime/eachValue.js';
export { statelyBridge, type StatelyBridge, type StatelyBridgeOptions, type StatelyInspectorLike, type StatelySnapshot } from './inspect/stately.js';
export type { MachineGraph, GraphState, GraphTransition, StateType, Trigger } from './inspect/machineGraph.js';
export type { MailboxView, MailboxEntry, RunningTurn, LaneName } from './inspect/mailboxView.js';
export type { TransitionData, TakenTransition } from './inspect/tap.js';
export type { ShownEvent } from './inspect/publicEvent.js';
