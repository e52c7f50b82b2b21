--------------------------- MODULE BoundedQueue ---------------------------
(***************************************************************************)
(* A bounded FIFO queue shared by producers and consumers.                 *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS Producers, Consumers, Capacity, Messages

ASSUME /\ Capacity \in Nat \ {0}
       /\ Producers \cap Consumers = {}

VARIABLES queue, sent, received

vars == <<queue, sent, received>>

TypeOK ==
    /\ queue \in Seq(Messages)
    /\ Len(queue) <= Capacity
    /\ sent \in [Producers -> Nat]
    /\ received \in [Consumers -> SUBSET Messages]

Init ==
    /\ queue = << >>
    /\ sent = [p \in Producers |-> 0]
    /\ received = [c \in Consumers |-> {}]

\* A producer appends a message if there is room.
Put(p, m) ==
    /\ Len(queue) < Capacity
    /\ queue' = Append(queue, m)
    /\ sent' = [sent EXCEPT ![p] = @ + 1]
    /\ UNCHANGED received

\* A consumer removes the head of the queue.
Get(c) ==
    /\ queue /= << >>
    /\ LET msg == Head(queue)
       IN  /\ received' = [received EXCEPT ![c] = @ \cup {msg}]
           /\ queue' = Tail(queue)
    /\ UNCHANGED sent

Next ==
    \/ \E p \in Producers, m \in Messages : Put(p, m)
    \/ \E c \in Consumers : Get(c)

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)

TotalSent == LET F[S \in SUBSET Producers] ==
                     IF S = {} THEN 0
                     ELSE LET p == CHOOSE x \in S : TRUE
                          IN  sent[p] + F[S \ {p}]
             IN  F[Producers]

NeverOverflows == Len(queue) <= Capacity

EventuallyDrained == <>[](queue = << >>) \/ []<>(Len(queue) > 0)

Status ==
    CASE Len(queue) = 0 -> "empty"
      [] Len(queue) = Capacity -> "full"
      [] OTHER -> "partial"

THEOREM Spec => []TypeOK
=============================================================================
