/**
 * @name Unsanitized user input reaches SQL query
 * @description Building a SQL query from user-controlled data without
 *              sanitization may allow SQL injection.
 * @kind path-problem
 * @problem.severity error
 * @id js/custom-sql-injection
 * @tags security
 */

import javascript
import semmle.javascript.security.dataflow.SqlInjectionCustomizations
import DataFlow::PathGraph

/** A call to a function whose name suggests it escapes SQL. */
class SqlEscapeCall extends DataFlow::CallNode {
  SqlEscapeCall() {
    exists(string name | name = this.getCalleeName() |
      name.regexpMatch("(?i).*(escape|sanitize|quote).*")
      or
      name = ["mysqlEscape", "pgFormat"]
    )
  }

  /** Gets the escaped argument. */
  DataFlow::Node getEscapedArg() { result = this.getArgument(0) }
}

/** Holds if `call` is a query execution with `sink` as the query text. */
predicate isQueryCall(DataFlow::CallNode call, DataFlow::Node sink) {
  call.getCalleeName() in ["query", "execute", "raw"] and
  sink = call.getArgument(0) and
  not call.getNumArgument() > 3
}

int maxDepth() { result = 5 }

/** Gets the number of query calls made directly inside `f`. */
int queryCallsIn(Function f) {
  result = count(DataFlow::CallNode call | isQueryCall(call, _) and call.getContainer() = f)
}

newtype TQueryKind =
  TRead() or
  TWrite(string table) { table = ["users", "orders"] }

class Configuration extends TaintTracking::Configuration {
  Configuration() { this = "CustomSqlInjection" }

  override predicate isSource(DataFlow::Node source) {
    source instanceof RemoteFlowSource
  }

  override predicate isSink(DataFlow::Node sink) { isQueryCall(_, sink) }

  override predicate isSanitizer(DataFlow::Node node) {
    node = any(SqlEscapeCall c)
    or
    node.asExpr().(StringLiteral).getValue().length() < 2
  }
}

from Configuration cfg, DataFlow::PathNode source, DataFlow::PathNode sink, int line
where
  cfg.hasFlowPath(source, sink) and
  line = sink.getNode().getStartLine() and
  if line > 1000 then line % 2 = 0 else any()
select sink.getNode(), source, sink,
  "This query depends on a $@ (line " + line.toString() + ", depth " + maxDepth() + ").",
  source.getNode(), "user-provided value"
