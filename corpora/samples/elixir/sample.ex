defmodule Inventory.Store do
  @moduledoc """
  A small GenServer-backed inventory store.
  """
  use GenServer
  require Logger
  alias Inventory.Item

  @default_capacity 100

  defstruct name: "store", items: %{}, capacity: @default_capacity

  @type t :: %__MODULE__{name: String.t(), items: map(), capacity: integer()}

  # Client API

  def start_link(opts \\ []) do
    name = Keyword.get(opts, :name, __MODULE__)
    GenServer.start_link(__MODULE__, opts, name: name)
  end

  @spec add(pid(), String.t(), pos_integer()) :: :ok | {:error, atom()}
  def add(pid, sku, qty \\ 1) when is_binary(sku) and qty > 0 do
    GenServer.call(pid, {:add, sku, qty})
  end

  def list(pid), do: GenServer.call(pid, :list)

  # Server callbacks

  @impl true
  def init(opts) do
    capacity = Keyword.get(opts, :capacity, @default_capacity)
    {:ok, %__MODULE__{capacity: capacity}}
  end

  @impl true
  def handle_call({:add, sku, qty}, _from, %__MODULE__{} = state) do
    total = state.items |> Map.values() |> Enum.sum()

    cond do
      total + qty > state.capacity ->
        Logger.warning("capacity exceeded for #{sku}")
        {:reply, {:error, :capacity}, state}

      true ->
        items = Map.update(state.items, sku, qty, &(&1 + qty))
        {:reply, :ok, %{state | items: items}}
    end
  end

  def handle_call(:list, _from, state) do
    listing =
      for {sku, qty} <- state.items, qty > 0 do
        %Item{sku: sku, quantity: qty}
      end

    {:reply, Enum.sort_by(listing, & &1.sku), state}
  end

  def parse_line(line) do
    case String.split(line, ",", trim: true) do
      [sku, qty] ->
        with {n, ""} <- Integer.parse(qty) do
          {:ok, {sku, n}}
        else
          _ -> {:error, :bad_quantity}
        end

      _other ->
        {:error, :bad_line}
    end
  end

  defp ratio(a, b) do
    try do
      a / b
    rescue
      ArithmeticError -> 0.0
    end
  end
end
