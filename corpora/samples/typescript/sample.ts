// Typed event store with reducers; exercised by the smoke tests.
import { createHash } from "crypto";
import type { Readable } from "stream";

export type EventKind = "created" | "renamed" | "deleted";

export interface StoreEvent<P = unknown> {
  readonly id: string;
  kind: EventKind;
  at: Date;
  payload: P;
}

interface Doc {
  name: string;
  tags?: string[];
  deleted: boolean;
}

type Reducer<S, E> = (state: S, event: E) => S;

enum Priority {
  Low = 1,
  Normal,
  High = 10,
}

export abstract class Store<S> {
  protected events: StoreEvent[] = [];
  private static counter = 0;

  constructor(protected readonly initial: S, private reducer: Reducer<S, StoreEvent>) {}

  append<P>(kind: EventKind, payload: P): StoreEvent<P> {
    const id = createHash("sha1").update(`${Store.counter++}:${kind}`).digest("hex");
    const event: StoreEvent<P> = { id, kind, at: new Date(), payload };
    this.events.push(event);
    return event;
  }

  get state(): S {
    return this.events.reduce(this.reducer, this.initial);
  }

  abstract describe(): string;
}

class DocStore extends Store<Doc> {
  describe(): string {
    const { name, tags = [], deleted } = this.state;
    return deleted ? `<deleted ${name}>` : `${name} [${tags.join(", ")}]`;
  }
}

const docReducer: Reducer<Doc, StoreEvent> = (doc, ev) => {
  switch (ev.kind) {
    case "created":
      return { ...(ev.payload as Partial<Doc>), name: String((ev.payload as any).name), deleted: false };
    case "renamed":
      return { ...doc, name: ev.payload as string };
    case "deleted":
      return { ...doc, deleted: true };
    default: {
      const never: never = ev.kind;
      throw new Error(`unhandled ${never}`);
    }
  }
};

export async function countLines(stream: Readable, limit = Infinity): Promise<number> {
  let lines = 0;
  for await (const chunk of stream) {
    lines += (chunk.toString().match(/\n/g) ?? []).length;
    if (lines >= limit) break;
  }
  return lines;
}

const store = new DocStore({ name: "", deleted: false }, docReducer);
store.append("created", { name: "notes.md", tags: ["draft"] });
store.append<string>("renamed", "README.md");
console.log(store.describe(), Priority[Priority.High], Priority.Normal satisfies number);
