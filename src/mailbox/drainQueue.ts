/**
 * One microtask drains every activation that has mail, in the order they asked: a burst
 * of tells to 10,000 actors costs one microtask, not 10,000, and no activation holds a
 * closure for it.
 */
export interface Drainable {
  drain(): void;
}

const queue: Drainable[] = [];
let scheduled = false;

function run(): void {
  scheduled = false;
  // Drains may schedule more (their own follow-ups, or other actors they told): same pass.
  for (let i = 0; i < queue.length; i++) queue[i]!.drain();
  queue.length = 0;
}

export function scheduleDrain(a: Drainable): void {
  queue.push(a);
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: a cost, not a behaviour: extra microtasks find the queue already drained by the first
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(run);
  }
}
