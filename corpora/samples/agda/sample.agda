module sample where

-- Natural numbers, lists and vectors with a few verified properties.

open import Agda.Builtin.Equality
open import Agda.Builtin.Nat using (Nat; zero; suc; _+_; _*_)
open import Agda.Builtin.Bool

infixr 5 _∷_ _++_

data List (A : Set) : Set where
  []  : List A
  _∷_ : A → List A → List A

data Vec (A : Set) : Nat → Set where
  nil  : Vec A zero
  cons : {n : Nat} → A → Vec A n → Vec A (suc n)

record Pair (A B : Set) : Set where
  constructor _,_
  field
    fst : A
    snd : B

open Pair

length : {A : Set} → List A → Nat
length []       = zero
length (x ∷ xs) = suc (length xs)

map : {A B : Set} → (A → B) → List A → List B
map f []       = []
map f (x ∷ xs) = f x ∷ map f xs

_++_ : {A : Set} → List A → List A → List A
[]       ++ ys = ys
(x ∷ xs) ++ ys = x ∷ (xs ++ ys)

if_then_else_ : {A : Set} → Bool → A → A → A
if true  then t else e = t
if false then t else e = e

filter : {A : Set} → (A → Bool) → List A → List A
filter p [] = []
filter p (x ∷ xs) = if p x then x ∷ filter p xs else filter p xs

head : {A : Set} {n : Nat} → Vec A (suc n) → A
head (cons x _) = x

cong : {A B : Set} (f : A → B) {x y : A} → x ≡ y → f x ≡ f y
cong f refl = refl

-- Appending the empty list on the right changes nothing.
++-identityʳ : {A : Set} (xs : List A) → xs ++ [] ≡ xs
++-identityʳ []       = refl
++-identityʳ (x ∷ xs) = cong (x ∷_) (++-identityʳ xs)

+-zero : (n : Nat) → n + zero ≡ n
+-zero zero    = refl
+-zero (suc n) = cong suc (+-zero n)

swap : {A B : Set} → Pair A B → Pair B A
swap p = snd p , fst p

example : List Nat
example = 1 ∷ 2 ∷ 3 ∷ []

doubled : List Nat
doubled = map (λ n → n * 2) example

postulate
  funext : {A B : Set} {f g : A → B} → ((x : A) → f x ≡ g x) → f ≡ g
