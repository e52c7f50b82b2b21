// A small React component module for the tsx smoke test.
import React, { useEffect, useMemo, useState } from "react";

export interface Todo {
  id: number;
  title: string;
  done: boolean;
}

type FilterMode = "all" | "open" | "done";

interface TodoListProps {
  initial?: Todo[];
  onChange?: (todos: Todo[]) => void;
}

function useDebounced<T>(value: T, delay = 300): T {
  const [current, setCurrent] = useState<T>(value);
  useEffect(() => {
    const handle = setTimeout(() => setCurrent(value), delay);
    return () => clearTimeout(handle);
  }, [value, delay]);
  return current;
}

const FilterButton: React.FC<{ mode: FilterMode; active: boolean; onClick: () => void }> = ({
  mode,
  active,
  onClick,
}) => (
  <button className={active ? "filter active" : "filter"} onClick={onClick} aria-pressed={active}>
    {mode.toUpperCase()}
  </button>
);

export default function TodoList({ initial = [], onChange }: TodoListProps) {
  const [todos, setTodos] = useState<Todo[]>(initial);
  const [draft, setDraft] = useState("");
  const [mode, setMode] = useState<FilterMode>("all");
  const query = useDebounced(draft.trim().toLowerCase());

  const visible = useMemo(
    () =>
      todos
        .filter((t) => (mode === "all" ? true : mode === "done" ? t.done : !t.done))
        .filter((t) => t.title.toLowerCase().includes(query)),
    [todos, mode, query],
  );

  useEffect(() => onChange?.(todos), [todos, onChange]);

  const add = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!draft) return;
    setTodos((prev) => [...prev, { id: Date.now(), title: draft, done: false }]);
    setDraft("");
  };

  return (
    <section className="todo-list">
      <form onSubmit={add}>
        <input value={draft} placeholder="What needs doing?" onChange={(e) => setDraft(e.target.value)} />
        <button type="submit" disabled={draft.length === 0}>Add</button>
      </form>
      <nav>
        {(["all", "open", "done"] as const).map((m) => (
          <FilterButton key={m} mode={m} active={m === mode} onClick={() => setMode(m)} />
        ))}
      </nav>
      {visible.length === 0 ? (
        <p className="empty">Nothing here &mdash; enjoy your day!</p>
      ) : (
        <ul>
          {visible.map((todo) => (
            <li key={todo.id} style={{ textDecoration: todo.done ? "line-through" : "none" }}>
              <label>
                <input
                  type="checkbox"
                  checked={todo.done}
                  onChange={() =>
                    setTodos((prev) => prev.map((t) => (t.id === todo.id ? { ...t, done: !t.done } : t)))
                  }
                />
                {todo.title}
              </label>
            </li>
          ))}
        </ul>
      )}
      <>
        <small>{todos.filter((t) => !t.done).length} open</small>
      </>
    </section>
  );
}
