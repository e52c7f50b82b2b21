%% Inventory server implemented as a gen_server.
-module(inventory).
-behaviour(gen_server).

-export([start_link/0, add/2, remove/2, list/0]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(SERVER, ?MODULE).
-define(MAX_QTY, 10000).

-record(state, {items = #{} :: map(), updates = 0 :: non_neg_integer()}).

-type sku() :: binary().

%%% API

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?SERVER}, ?MODULE, [], []).

-spec add(sku(), pos_integer()) -> ok | {error, too_many}.
add(Sku, Qty) when is_binary(Sku), Qty > 0 ->
    gen_server:call(?SERVER, {add, Sku, Qty}).

remove(Sku, Qty) ->
    gen_server:cast(?SERVER, {remove, Sku, Qty}).

list() ->
    gen_server:call(?SERVER, list).

%%% Callbacks

init([]) ->
    {ok, #state{}}.

handle_call({add, Sku, Qty}, _From, #state{items = Items} = State) ->
    Current = maps:get(Sku, Items, 0),
    case Current + Qty of
        Total when Total > ?MAX_QTY ->
            {reply, {error, too_many}, State};
        Total ->
            NewItems = Items#{Sku => Total},
            {reply, ok, State#state{items = NewItems,
                                    updates = State#state.updates + 1}}
    end;
handle_call(list, _From, #state{items = Items} = State) ->
    Sorted = lists:sort(maps:to_list(Items)),
    Lines = [io_lib:format("~s: ~b~n", [S, Q]) || {S, Q} <- Sorted, Q > 0],
    {reply, Lines, State};
handle_call(_Other, _From, State) ->
    {reply, {error, unknown_request}, State}.

handle_cast({remove, Sku, Qty}, #state{items = Items} = State) ->
    NewItems =
        if
            Qty >= 0 ->
                maps:update_with(Sku, fun(V) -> max(0, V - Qty) end, 0, Items);
            true ->
                Items
        end,
    {noreply, State#state{items = NewItems}}.

safe_ratio(A, B) ->
    try A / B of
        R -> {ok, R}
    catch
        error:badarith -> {error, division_by_zero}
    end.

receive_one(Timeout) ->
    receive
        {msg, Payload} -> {ok, Payload};
        stop -> stopped
    after Timeout ->
        timeout
    end.
