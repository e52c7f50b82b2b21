;;; Simple queue and priority scheduler in R7RS Scheme.

(define-library (scheduler)
  (export make-queue enqueue! dequeue! run-tasks)
  (import (scheme base) (scheme write))
  (begin

    (define-record-type <queue>
      (%make-queue front back)
      queue?
      (front queue-front set-queue-front!)
      (back queue-back set-queue-back!))

    (define (make-queue) (%make-queue '() '()))

    (define (enqueue! q item)
      (set-queue-back! q (cons item (queue-back q))))

    (define (dequeue! q)
      (when (null? (queue-front q))
        (set-queue-front! q (reverse (queue-back q)))
        (set-queue-back! q '()))
      (if (null? (queue-front q))
          (error "dequeue!: queue is empty" q)
          (let ((item (car (queue-front q))))
            (set-queue-front! q (cdr (queue-front q)))
            item)))

    (define (queue-empty? q)
      (and (null? (queue-front q)) (null? (queue-back q))))

    ;; Run each task, a pair of (name . thunk), counting failures.
    (define (run-tasks tasks)
      (let ((q (make-queue)) (failures 0))
        (for-each (lambda (t) (enqueue! q t)) tasks)
        (do ((n 0 (+ n 1)))
            ((queue-empty? q) (list n failures))
          (let* ((task (dequeue! q))
                 (name (car task)))
            (guard (e (#t (set! failures (+ failures 1))
                          (display "failed: ")
                          (display name)
                          (newline)))
              ((cdr task))
              (display "ok: ")
              (display name)
              (newline))))))))

(import (scheme base) (scheme write) (scheduler))

(define tasks
  (list (cons "greet" (lambda () (display "hello, world") (newline)))
        (cons "math" (lambda () (display (* 6 7)) (newline)))
        (cons "broken" (lambda () (raise 'oops)))
        (cons "vector" (lambda () (display #(1 2.5 "three" #\x)) (newline)))))

(define result (run-tasks tasks))

(case (cadr result)
  ((0) (display "all tasks succeeded"))
  ((1 2) (display "a few tasks failed"))
  (else (display "many tasks failed")))
(newline)

(let loop ((i 0))
  (when (< i 3)
    (display `(iteration ,i done))
    (newline)
    (loop (+ i 1))))
