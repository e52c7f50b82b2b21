#lang racket/base
;; A small bank account simulation.

(require racket/list
         racket/string
         racket/match)

(provide (struct-out account)
         deposit
         withdraw
         summarize)

(struct account (owner balance history) #:transparent)

(define interest-rate 0.025)
(define currency "EUR")

;; deposit : account number -> account
(define (deposit acct amount)
  (unless (positive? amount)
    (raise-argument-error 'deposit "positive?" amount))
  (struct-copy account acct
               [balance (+ (account-balance acct) amount)]
               [history (cons `(deposit ,amount) (account-history acct))]))

(define (withdraw acct amount)
  (cond
    [(> amount (account-balance acct))
     (error 'withdraw "insufficient funds: ~a < ~a" (account-balance acct) amount)]
    [else
     (struct-copy account acct
                  [balance (- (account-balance acct) amount)]
                  [history (cons (list 'withdraw amount) (account-history acct))])]))

(define (apply-interest acct)
  (deposit acct (* (account-balance acct) interest-rate)))

(define (describe-entry entry)
  (match entry
    [(list 'deposit n) (format "+~a" n)]
    [(list 'withdraw n) (format "-~a" n)]
    [_ "?"]))

(define (summarize acct)
  (define entries (map describe-entry (reverse (account-history acct))))
  (string-append (account-owner acct) ": "
                 (string-join entries ", ")
                 (format " => ~a ~a" (account-balance acct) currency)))

(module+ main
  (define start (account "alice" 100 '()))
  (define result
    (with-handlers ([exn:fail? (lambda (e)
                                 (displayln (exn-message e))
                                 start)])
      (for/fold ([acct start])
                ([op (in-list '((deposit 50) (withdraw 30) (withdraw 500)))])
        (match-define (list kind amount) op)
        (if (eq? kind 'deposit)
            (deposit acct amount)
            (withdraw acct amount)))))
  (let loop ([i 0] [acct result])
    (when (< i 3)
      (printf "year ~a: ~a\n" i (account-balance acct))
      (loop (add1 i) (apply-interest acct))))
  (displayln (summarize result))
  (define table (make-hash))
  (hash-set! table "count" (length (account-history result)))
  (displayln (hash-ref table "count" #f))
  (displayln (vector 1 2.5 #\a #t)))
