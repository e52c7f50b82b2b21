(* A tiny expression evaluator with an environment and error handling. *)
open Printf

module StringMap = Map.Make (String)

type expr =
  | Num of float
  | Var of string
  | Add of expr * expr
  | Mul of expr * expr
  | Let of string * expr * expr
  | If of expr * expr * expr

type env = float StringMap.t

exception Unbound of string

let rec eval (env : env) = function
  | Num n -> n
  | Var x -> (
      match StringMap.find_opt x env with
      | Some v -> v
      | None -> raise (Unbound x))
  | Add (a, b) -> eval env a +. eval env b
  | Mul (a, b) -> eval env a *. eval env b
  | Let (x, e, body) ->
      let v = eval env e in
      eval (StringMap.add x v env) body
  | If (c, t, f) -> if eval env c <> 0.0 then eval env t else eval env f

let rec to_string = function
  | Num n -> sprintf "%g" n
  | Var x -> x
  | Add (a, b) -> sprintf "(%s + %s)" (to_string a) (to_string b)
  | Mul (a, b) -> sprintf "(%s * %s)" (to_string a) (to_string b)
  | Let (x, e, b) -> sprintf "let %s = %s in %s" x (to_string e) (to_string b)
  | If (c, t, f) ->
      sprintf "if %s then %s else %s" (to_string c) (to_string t) (to_string f)

type stats = { mutable evaluated : int; mutable failed : int }

let stats = { evaluated = 0; failed = 0 }

let examples =
  [
    Add (Num 1.0, Mul (Num 2.0, Num 3.5));
    Let ("x", Num 4.0, Mul (Var "x", Var "x"));
    If (Num 0.0, Num 1.0, Var "missing");
  ]

let () =
  let env = StringMap.empty |> StringMap.add "pi" 3.14159 in
  List.iteri
    (fun i e ->
      try
        let v = eval env e in
        stats.evaluated <- stats.evaluated + 1;
        printf "%d: %s = %.3f\n" i (to_string e) v
      with Unbound name ->
        stats.failed <- stats.failed + 1;
        eprintf "%d: unbound variable %S\n" i name)
    examples;
  for i = 1 to 3 do
    printf "tick %d\n" i
  done;
  let arr = [| 1; 2; 3 |] in
  Array.iter (fun x -> printf "%d " x) arr;
  print_newline ();
  printf "evaluated=%d failed=%d\n" stats.evaluated stats.failed
