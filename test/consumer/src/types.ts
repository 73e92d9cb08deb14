// Compile-time expectations about the public types. Type-checked, never run.
import { createRuntime, Runtime } from 'interlock';
import { setup } from 'xstate';

// The class is exported as a type only: annotate with it, create with createRuntime.
export type AnyRuntime = Runtime;
export const make = () => createRuntime({ kinds: { noop: { machine: setup({}).createMachine({}) } } });
// @ts-expect-error Runtime is exported as a type only; `new Runtime()` must not compile.
export const forbidden = () => new Runtime();
