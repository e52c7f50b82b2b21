;;; todo-tracker.el --- Track TODO items in buffers  -*- lexical-binding: t; -*-

;;; Commentary:
;; Collects TODO/FIXME markers from the current buffer and shows them
;; in a dedicated list buffer.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(defgroup todo-tracker nil
  "Track TODO markers."
  :group 'tools
  :prefix "todo-tracker-")

(defcustom todo-tracker-keywords '("TODO" "FIXME" "HACK")
  "Keywords recognised as markers."
  :type '(repeat string)
  :group 'todo-tracker)

(defvar todo-tracker--count 0
  "Number of markers found in the last scan.")

(cl-defstruct todo-tracker-item
  line keyword text)

(defun todo-tracker--regexp ()
  "Build a regexp matching any configured keyword."
  (concat "\\<\\(" (regexp-opt todo-tracker-keywords) "\\):?\\s-*\\(.*\\)$"))

(defun todo-tracker-scan (&optional buffer)
  "Return a list of marker items found in BUFFER."
  (with-current-buffer (or buffer (current-buffer))
    (save-excursion
      (goto-char (point-min))
      (let ((items '())
            (re (todo-tracker--regexp)))
        (while (re-search-forward re nil t)
          (push (make-todo-tracker-item
                 :line (line-number-at-pos)
                 :keyword (match-string-no-properties 1)
                 :text (string-trim (match-string-no-properties 2)))
                items))
        (setq todo-tracker--count (length items))
        (nreverse items)))))

(defun todo-tracker-show ()
  "Display markers of the current buffer."
  (interactive)
  (let ((items (todo-tracker-scan))
        (source (buffer-name)))
    (if (null items)
        (message "No markers in %s" source)
      (with-current-buffer (get-buffer-create "*todo-tracker*")
        (let ((inhibit-read-only t))
          (erase-buffer)
          (insert (format "Markers in %s (%d)\n\n" source (length items)))
          (dolist (item items)
            (insert (format "%5d  %-6s %s\n"
                            (todo-tracker-item-line item)
                            (todo-tracker-item-keyword item)
                            (todo-tracker-item-text item)))))
        (special-mode)
        (pop-to-buffer (current-buffer))))))

(defun todo-tracker-summary ()
  "Return an alist of keyword counts."
  (condition-case err
      (let ((counts (make-hash-table :test #'equal)))
        (dolist (item (todo-tracker-scan))
          (cl-incf (gethash (todo-tracker-item-keyword item) counts 0)))
        (cl-loop for k being the hash-keys of counts
                 collect (cons k (gethash k counts))))
    (error (message "scan failed: %S" err) nil)))

(global-set-key (kbd "C-c t") #'todo-tracker-show)

(provide 'todo-tracker)
;;; todo-tracker.el ends here
