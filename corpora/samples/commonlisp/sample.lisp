;;;; inventory.lisp -- a tiny inventory system

(defpackage :inventory
  (:use :common-lisp)
  (:export #:make-store #:add-item #:report))

(in-package :inventory)

(defparameter *default-capacity* 100
  "Default maximum number of units in a store.")

(defvar *stores* (make-hash-table :test 'equal))

(define-condition capacity-exceeded (error)
  ((requested :initarg :requested :reader requested))
  (:report (lambda (c stream)
             (format stream "Capacity exceeded: ~a units requested"
                     (requested c)))))

(defstruct item
  (sku "" :type string)
  (name "" :type string)
  (quantity 0 :type integer)
  (price 0.0 :type float))

(defclass store ()
  ((name :initarg :name :accessor store-name)
   (capacity :initarg :capacity :initform *default-capacity* :accessor store-capacity)
   (items :initform '() :accessor store-items)))

(defun make-store (name &key (capacity *default-capacity*))
  (let ((s (make-instance 'store :name name :capacity capacity)))
    (setf (gethash name *stores*) s)
    s))

(defun total-units (store)
  (reduce #'+ (store-items store) :key #'item-quantity :initial-value 0))

(defmethod add-item ((store store) (item item))
  (when (> (+ (total-units store) (item-quantity item))
           (store-capacity store))
    (error 'capacity-exceeded :requested (item-quantity item)))
  (push item (store-items store))
  item)

(defun item-status (item)
  (let ((q (item-quantity item)))
    (cond ((zerop q) :empty)
          ((< q 10) :low)
          (t :in-stock))))

(defun report (store)
  (loop for item in (sort (copy-list (store-items store)) #'string< :key #'item-name)
        for i from 1
        do (format t "~2d. ~a ~5d ~a~%"
                   i (item-name item) (item-quantity item) (item-status item))))

(defmacro with-store ((var name) &body body)
  `(let ((,var (make-store ,name)))
     ,@body))

(with-store (s "north")
  (handler-case
      (progn
        (add-item s (make-item :sku "A-1" :name "Bolt" :quantity 60 :price 0.25))
        (add-item s (make-item :sku "B-2" :name "Hinge" :quantity 4 :price 3.5))
        (add-item s (make-item :sku "C-3" :name "Latch" :quantity 50 :price 7.0)))
    (capacity-exceeded (e)
      (format t "warning: ~a~%" e)))
  (report s)
  (dolist (x '(1 2.5 #\a "str" #(1 2 3)))
    (print (type-of x))))
