#!/usr/bin/env node
// A small implementation of tree-sitter's grammar DSL, written for this
// project from the DSL's documented semantics
// (https://tree-sitter.github.io/tree-sitter/creating-parsers/2-the-grammar-dsl.html).
// It evaluates a `grammar.js` into the JSON that `tree-sitter generate`
// writes to `src/grammar.json`, so that `cargo xtask grammars` can generate
// inputs for packages that ship a `grammar.js` but no `src/grammar.json`.
//
//   node xtask/grammars/dsl.js path/to/grammar.js > grammar.json
//   node xtask/grammars/dsl.js --check path/to/src/grammar.json path/to/grammar.js
//
// `--check` compares the evaluation with a shipped grammar.json structurally
// (name, rule names and their order, every rule, extras, externals, inline,
// conflicts, word, supertypes, precedences, reserved; `$schema` ignored, an
// absent `reserved` taken as `{}`), prints the first differences and exits 1
// when there are any.
//
// The DSL functions are defined as globals before the grammar file is
// required (grammar.js files use them as globals and may require siblings).
// Errors go to stderr with a non-zero exit status.
'use strict';

const path = require('path');

const SCHEMA = 'https://tree-sitter.github.io/tree-sitter/assets/schemas/grammar.schema.json';

class DslError extends Error {}

function fail(message) {
  throw new DslError(message);
}

function describe(value) {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value).slice(0, 80);
  } catch (_) {
    return String(value);
  }
}

// ---------------------------------------------------------------- rules --

const symbol = (name) => ({ type: 'SYMBOL', name });
const isRule = (v) => v !== null && typeof v === 'object' && typeof v.type === 'string';

/** A rule argument as grammar.json spells it: strings → STRING, RegExps → PATTERN. */
function normalize(value) {
  if (typeof value === 'string') return { type: 'STRING', value };
  if (value instanceof RegExp) {
    const out = { type: 'PATTERN', value: value.source };
    if (value.flags) out.flags = value.flags;
    return out;
  }
  if (isRule(value)) return value;
  fail(`invalid rule: ${describe(value)}`);
}

function members(kind, args) {
  return args.map((a, i) => {
    if (a === undefined) fail(`${kind}: argument ${i + 1} is undefined`);
    return normalize(a);
  });
}

function blank() {
  return { type: 'BLANK' };
}

function seq(...args) {
  return { type: 'SEQ', members: members('seq', args) };
}

function choice(...args) {
  return { type: 'CHOICE', members: members('choice', args) };
}

function optional(value) {
  return choice(value, blank());
}

function one(kind, args) {
  if (args.length !== 1) fail(`${kind} takes exactly one rule, got ${args.length}`);
  if (args[0] === undefined) fail(`${kind}: the rule is undefined`);
  return normalize(args[0]);
}

function repeat(...args) {
  return { type: 'REPEAT', content: one('repeat', args) };
}

function repeat1(...args) {
  return { type: 'REPEAT1', content: one('repeat1', args) };
}

function token(value) {
  return { type: 'TOKEN', content: one('token', [value]) };
}
token.immediate = function immediate(value) {
  return { type: 'IMMEDIATE_TOKEN', content: one('token.immediate', [value]) };
};

function alias(rule, value) {
  const content = one('alias', [rule]);
  if (typeof value === 'string') return { type: 'ALIAS', content, named: false, value };
  if (isRule(value) && value.type === 'SYMBOL') {
    return { type: 'ALIAS', content, named: true, value: value.name };
  }
  fail(`alias: the alias must be a string or a symbol ($.name), got ${describe(value)}`);
}

function field(name, rule) {
  if (typeof name !== 'string') fail(`field: the name must be a string, got ${describe(name)}`);
  return { type: 'FIELD', name, content: one(`field(${name})`, [rule]) };
}

function precValue(kind, value) {
  if (typeof value === 'number' || typeof value === 'string') return value;
  fail(`${kind}: the precedence must be a number or a string, got ${describe(value)}`);
}

function prec(value, rule) {
  if (rule === undefined) fail('prec: needs a precedence and a rule');
  return { type: 'PREC', value: precValue('prec', value), content: one('prec', [rule]) };
}

function associative(type, kind) {
  return function (value, rule) {
    if (rule === undefined) {
      rule = value;
      value = 0;
    }
    return { type, value: precValue(kind, value), content: one(kind, [rule]) };
  };
}
prec.left = associative('PREC_LEFT', 'prec.left');
prec.right = associative('PREC_RIGHT', 'prec.right');
prec.dynamic = function dynamic(value, rule) {
  if (typeof value !== 'number') fail(`prec.dynamic: the precedence must be a number, got ${describe(value)}`);
  return { type: 'PREC_DYNAMIC', value, content: one('prec.dynamic', [rule]) };
};

function reserved(contextName, rule) {
  if (typeof contextName !== 'string') {
    fail(`reserved: the word set name must be a string, got ${describe(contextName)}`);
  }
  return { type: 'RESERVED', context_name: contextName, content: one('reserved', [rule]) };
}

function sym(name) {
  return symbol(name);
}

// -------------------------------------------------------------- grammar --

/** `$`: any property is a reference to the rule (or external) of that name. */
const ruleProxy = new Proxy(
  {},
  {
    get(_, name) {
      return typeof name === 'string' ? symbol(name) : undefined;
    },
  },
);

/** A grammar's JSON from a `grammar()` result (or the JSON itself). */
function jsonOf(g) {
  if (g && typeof g === 'object' && g.grammar && typeof g.grammar === 'object') return g.grammar;
  if (g && typeof g === 'object' && g.default) return jsonOf(g.default);
  return g;
}

function symbolName(kind, value) {
  if (typeof value === 'string') return value;
  if (isRule(value) && value.type === 'SYMBOL') return value.name;
  fail(`${kind}: expected a symbol ($.name), got ${describe(value)}`);
}

/** Calls an option that is a function `($, previous) => …` (or a value). */
function option(kind, value, previous) {
  const v = typeof value === 'function' ? value.call(ruleProxy, ruleProxy, previous) : value;
  if (!Array.isArray(v)) fail(`${kind} must be an array (or a function returning one), got ${describe(v)}`);
  return v;
}

function grammar(baseGrammar, options) {
  if (options === undefined) {
    options = baseGrammar;
    baseGrammar = undefined;
  }
  if (!options || typeof options !== 'object') fail('grammar: the options must be an object');
  const base = baseGrammar === undefined ? undefined : jsonOf(baseGrammar);
  if (base !== undefined && (!base || typeof base.rules !== 'object')) {
    fail('grammar: the base grammar is no grammar');
  }
  const b = base || {
    rules: {},
    extras: [{ type: 'PATTERN', value: '\\s' }],
    conflicts: [],
    precedences: [],
    externals: [],
    inline: [],
    supertypes: [],
    reserved: {},
  };

  const name = options.name;
  if (typeof name !== 'string') fail('grammar: `name` must be a string');
  if (!/^[a-zA-Z_]\w*$/.test(name)) fail(`grammar: \`${name}\` is not a valid grammar name`);

  // Externals first: rules may refer to them.
  let externals = b.externals || [];
  if (options.externals !== undefined) {
    externals = option('externals', options.externals, b.externals || []).map((e, i) => {
      if (e === undefined) fail(`externals: entry ${i + 1} is undefined`);
      return normalize(e);
    });
  }

  // Rules: the base grammar's in its order, overridden in place, new ones appended.
  const rules = Object.assign({}, b.rules);
  const ruleOptions = options.rules || {};
  if (typeof ruleOptions !== 'object') fail('grammar: `rules` must be an object');
  for (const ruleName of Object.keys(ruleOptions)) {
    const fn = ruleOptions[ruleName];
    if (typeof fn !== 'function') fail(`rule \`${ruleName}\` must be a function ($ => …)`);
    try {
      const value = fn.call(ruleProxy, ruleProxy, b.rules[ruleName]);
      if (value === undefined) fail('it returned undefined');
      rules[ruleName] = normalize(value);
    } catch (e) {
      if (e instanceof DslError) fail(`rule \`${ruleName}\`: ${e.message}`);
      throw e;
    }
  }
  if (Object.keys(rules).length === 0) fail('grammar: no rules');

  let extras = b.extras || [];
  if (options.extras !== undefined) {
    extras = option('extras', options.extras, b.extras || []).map((e, i) => {
      if (e === undefined) fail(`extras: entry ${i + 1} is undefined`);
      return normalize(e);
    });
  }

  const names = (kind, list) => list.map((s) => symbolName(kind, s));
  const symbols = (list) => (list || []).map(symbol);

  let inline = b.inline || [];
  if (options.inline !== undefined) {
    inline = names('inline', option('inline', options.inline, symbols(b.inline)));
  }

  let supertypes = b.supertypes || [];
  if (options.supertypes !== undefined) {
    supertypes = names('supertypes', option('supertypes', options.supertypes, symbols(b.supertypes)));
  }

  let conflicts = b.conflicts || [];
  if (options.conflicts !== undefined) {
    const previous = (b.conflicts || []).map(symbols);
    conflicts = option('conflicts', options.conflicts, previous).map((c, i) => {
      if (!Array.isArray(c)) fail(`conflicts: entry ${i + 1} is not an array`);
      return names('conflicts', c);
    });
  }

  let precedences = b.precedences || [];
  if (options.precedences !== undefined) {
    precedences = option('precedences', options.precedences, b.precedences || []).map((level, i) => {
      if (!Array.isArray(level)) fail(`precedences: entry ${i + 1} is not an array`);
      return level.map((p) => normalize(p));
    });
  }

  let word = b.word;
  if (options.word !== undefined) {
    const w = typeof options.word === 'function' ? options.word.call(ruleProxy, ruleProxy) : options.word;
    word = symbolName('word', w);
  }

  let reservedWords = b.reserved || {};
  if (options.reserved !== undefined) {
    if (!options.reserved || typeof options.reserved !== 'object') fail('`reserved` must be an object');
    reservedWords = {};
    for (const context of Object.keys(options.reserved)) {
      const previous = (b.reserved || {})[context] || [];
      reservedWords[context] = option(`reserved.${context}`, options.reserved[context], previous).map((r) =>
        normalize(r),
      );
    }
  }

  const json = { $schema: SCHEMA, name };
  if (base !== undefined && typeof base.name === 'string') json.inherits = base.name;
  if (word !== undefined) json.word = word;
  Object.assign(json, {
    rules,
    extras,
    conflicts,
    precedences,
    externals,
    inline,
    supertypes,
    reserved: reservedWords,
  });
  return { grammar: json };
}

const DSL = {
  grammar,
  seq,
  choice,
  optional,
  repeat,
  repeat1,
  token,
  alias,
  field,
  prec,
  blank,
  sym,
  reserved,
};

// ------------------------------------------------------------ evaluation --

/** Evaluates the grammar.js at `file` and returns its grammar.json value. */
function evaluate(file) {
  Object.assign(globalThis, DSL);
  const exported = require(path.resolve(file));
  const json = jsonOf(exported);
  if (!json || typeof json !== 'object' || typeof json.rules !== 'object' || typeof json.name !== 'string') {
    fail(`${file} does not export a grammar (module.exports = grammar({...}))`);
  }
  return json;
}

// ------------------------------------------------------------ comparison --

function canonical(g) {
  const c = {
    name: g.name,
    inherits: g.inherits,
    word: g.word,
    ruleNames: Object.keys(g.rules || {}),
    rules: g.rules || {},
    extras: g.extras || [],
    conflicts: g.conflicts || [],
    precedences: g.precedences || [],
    externals: g.externals || [],
    inline: g.inline || [],
    supertypes: g.supertypes || [],
    reserved: g.reserved || {},
  };
  return c;
}

/** Structural differences of two JSON values (object key order ignored), at most `limit`. */
function diff(a, b, at, out, limit) {
  if (out.length >= limit) return;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) {
      out.push(`${at}: ${describe(a)} ≠ ${describe(b)}`);
      return;
    }
    if (a.length !== b.length) out.push(`${at}: length ${a.length} ≠ ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diff(a[i], b[i], `${at}[${i}]`, out, limit);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) diff(a[k], b[k], `${at}.${k}`, out, limit);
    return;
  }
  if (a !== b) out.push(`${at}: ${describe(a)} ≠ ${describe(b)}`);
}

function compare(ours, shipped, limit = 20) {
  const out = [];
  diff(canonical(ours), canonical(shipped), '', out, limit);
  return out;
}

// ------------------------------------------------------------------ main --

function main(argv) {
  let check;
  const args = argv.slice();
  if (args[0] === '--check') {
    args.shift();
    check = args.shift();
  }
  if (args.length !== 1 || (check !== undefined && !check)) {
    process.stderr.write(
      'usage: node dsl.js path/to/grammar.js > grammar.json\n' +
        '       node dsl.js --check path/to/src/grammar.json path/to/grammar.js\n',
    );
    return 2;
  }
  const json = evaluate(args[0]);
  if (check === undefined) {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  const shipped = JSON.parse(require('fs').readFileSync(check, 'utf8'));
  const differences = compare(json, shipped);
  if (differences.length === 0) {
    process.stdout.write('match\n');
    return 0;
  }
  process.stdout.write(differences.map((d) => `differ ${d}\n`).join(''));
  return 1;
}

if (require.main === module) {
  let code;
  try {
    code = main(process.argv.slice(2));
  } catch (e) {
    // The first line says what went wrong (xtask reports it); the stack follows.
    const message = e instanceof DslError ? e.message : String((e && e.message) || e).split('\n')[0];
    process.stderr.write(`dsl.js: ${message}\n`);
    if (!(e instanceof DslError) && e && e.stack) process.stderr.write(`${e.stack}\n`);
    code = 1;
  }
  process.exitCode = code;
}

module.exports = { DSL, evaluate, compare };
