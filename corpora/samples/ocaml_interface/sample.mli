(** Public interface for a bounded priority queue of jobs. *)

(** Priority levels understood by the scheduler. *)
type priority = Low | Normal | High | Critical

type job = {
  id : int;
  name : string;
  priority : priority;
  payload : bytes option;
}

(** The abstract queue type. *)
type t

exception Full of int
exception Empty

val create : ?capacity:int -> unit -> t
(** [create ~capacity ()] makes an empty queue holding at most [capacity] jobs. *)

val push : t -> job -> unit
(** @raise Full when the queue already holds [capacity] jobs. *)

val pop : t -> job
(** @raise Empty if there is nothing to pop. *)

val pop_opt : t -> job option
val length : t -> int
val is_empty : t -> bool
val iter : (job -> unit) -> t -> unit
val fold : ('acc -> job -> 'acc) -> 'acc -> t -> 'acc
val to_list : t -> job list
val compare_priority : priority -> priority -> int

module type ORDERED = sig
  type elt
  val compare : elt -> elt -> int
end

module Make (O : ORDERED) : sig
  type elt = O.t
  type q
  val empty : q
  val add : elt -> q -> q
  val min_elt : q -> elt option
end

(** Statistics collected over the queue's life. *)
module Stats : sig
  type counters = private {
    pushed : int;
    popped : int;
    rejected : int;
  }

  val snapshot : t -> counters
  val pp : Format.formatter -> counters -> unit
end

external unsafe_capacity : t -> int = "queue_capacity"

class type observer = object
  method on_push : job -> unit
  method on_pop : job -> unit
end

val attach : t -> #observer -> unit
