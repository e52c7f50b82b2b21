// Simple task queue with retry support, written for the smoke tests.
import { EventEmitter } from "node:events";
import fs from "node:fs/promises";

const DEFAULTS = Object.freeze({ retries: 3, delayMs: 250, concurrency: 2 });

/** Sleep helper returning a promise. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TaskQueue extends EventEmitter {
  #pending = [];
  #running = 0;

  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
  }

  push(name, fn) {
    this.#pending.push({ name, fn, attempts: 0 });
    this.#drain();
    return this;
  }

  async #run(task) {
    const { retries, delayMs } = this.options;
    while (task.attempts <= retries) {
      task.attempts++;
      try {
        const value = await task.fn();
        this.emit("done", task.name, value);
        return;
      } catch (err) {
        this.emit("retry", task.name, err?.message ?? String(err));
        await sleep(delayMs * 2 ** (task.attempts - 1));
      }
    }
    this.emit("failed", task.name);
  }

  #drain() {
    while (this.#running < this.options.concurrency && this.#pending.length > 0) {
      const task = this.#pending.shift();
      this.#running += 1;
      this.#run(task).finally(() => {
        this.#running -= 1;
        this.#drain();
      });
    }
  }
}

async function main() {
  const queue = new TaskQueue({ delayMs: 10 });
  const results = new Map();
  queue.on("done", (name, value) => results.set(name, value));
  queue.on("failed", (name) => console.error(`task ${name} gave up`));

  let flaky = 0;
  queue
    .push("read", () => fs.readFile("package.json", "utf8").then((s) => s.length))
    .push("flaky", async () => {
      if (++flaky < 2) throw new Error("not yet");
      return [1, 2, 3].map((n) => n * 10);
    })
    .push("regex", () => /^v(\d+)\.(\d+)$/.exec("v1.42")?.slice(1));

  await sleep(200);
  for (const [key, value] of results) {
    console.log(`${key.padEnd(8)} =>`, typeof value === "object" ? JSON.stringify(value) : value);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
